/**
 * Which format an OData response is written in. OData 4.0 answers JSON only. OData 2.0 answers AtomPub unless the
 * request asks for JSON (SALESFORCE.md §3, §8a: Salesforce's data source has a Format field; which Accept each
 * choice sends is undocumented, so Accept decides, Atom by default):
 *   - `$format=json|atom|xml` (or their media types) wins over Accept, for clients that cannot set headers;
 *   - else JSON when Accept names application/json with a quality above 0 and not below any Atom/XML type it names;
 *   - else Atom: no Accept, `*` / `* /*` alone, and Apex's default Accept (text/html, image/gif, image/jpeg, *;
 *     q=.2, * /*; q=.2) all get Atom.
 */
import type { ODataDialect } from './query/index.js';

export type ResponseFormat = 'json' | 'atom';

export class FormatError extends Error {}

/** What `$format` asks for, or a FormatError naming what this version serves. */
export function formatOption(value: string, dialect: ODataDialect): ResponseFormat {
  const v = value.trim().toLowerCase().split(';')[0];
  if (v === 'json' || v === 'application/json') return 'json';
  if (dialect === 'v2' && (v === 'atom' || v === 'xml' || v === 'application/atom+xml' || v === 'application/xml')) return 'atom';
  throw new FormatError(
    dialect === 'v4'
      ? `$format=${value.slice(0, 60)} is not served: this OData 4.0 service answers JSON only ($format=json)`
      : `$format=${value.slice(0, 60)} is not served: use $format=json or $format=atom`,
  );
}

const ATOM_TYPES = new Set(['application/atom+xml', 'application/xml', 'text/xml']);

/** v2: JSON when Accept asks for it (see above), else Atom. */
export function acceptFormat(accept: string | undefined): ResponseFormat {
  if (accept === undefined || !accept.includes('json')) return 'atom';
  let json = 0;
  let atom = 0;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';');
    const media = type.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    if (!(q >= 0 && q <= 1)) q = 0;
    if (media === 'application/json') json = Math.max(json, q);
    else if (ATOM_TYPES.has(media)) atom = Math.max(atom, q);
  }
  return json > 0 && json >= atom ? 'json' : 'atom';
}
