/**
 * Shared plumbing for the ERP's OData tests over real sockets: a server with the ERP seeded small, GETs that parse
 * what each version answers (v4 JSON, v2 verbose JSON, v2 Atom read with the server's own safe XML reader), and
 * the CSRF dance a v2 write needs.
 */
import type { RunningServer, ServerOptions } from '../../../../src/server.js';
import { readXml, type XmlElement } from '../../../../src/protocols/xml/xml-reader.js';
import { call, start, type JsonResponse } from '../../../helpers.js';

export const SMALL_ERP = { customers: 50, invoices: 200, invoiceLines: 2000 } as const;
export const V4 = '/erp/odata/v4';
export const V2 = '/erp/odata/v2';

export async function odataServer(options: ServerOptions = {}): Promise<RunningServer> {
  const { systems, ...rest } = options;
  return start({
    seed: 11,
    ...rest,
    systems: { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, ...systems, erp: { ...SMALL_ERP, ...systems?.erp } },
  });
}

/** GET with JSON asked for (v2 answers Atom otherwise). */
export function getJson(url: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return call(url, { headers: { accept: 'application/json', ...headers } });
}

/** The v2 verbose JSON results of a feed (d.results), with __count and __next. */
export function v2Feed(body: any): { results: any[]; count?: string; next?: string } {
  return { results: body.d.results, count: body.d.__count, next: body.d.__next };
}

/** An Atom document, read by the same safe reader the server uses. */
export function atom(text: string): XmlElement {
  return readXml(text);
}

export function children(el: XmlElement, local: string): XmlElement[] {
  return el.children.filter((c) => c.local === local);
}

export function child(el: XmlElement, local: string): XmlElement | undefined {
  return el.children.find((c) => c.local === local);
}

/** The m:properties of each entry of an Atom feed, as name → text (null for m:null). */
export function atomEntries(feed: XmlElement): Array<Record<string, string | null>> {
  return children(feed, 'entry').map(entryProperties);
}

/** The m:properties of one Atom entry, as name → text (null for m:null). */
export function entryProperties(entry: XmlElement): Record<string, string | null> {
  const props = child(child(entry, 'content')!, 'properties')!;
  return Object.fromEntries(props.children.map((p) => [p.local, p.attrs.some((a) => a.local === 'null' && a.value === 'true') ? null : p.text]));
}

/** Fetches the CSRF token of a service (a GET with X-CSRF-Token: Fetch). */
export async function csrfToken(base: string, root: string): Promise<string> {
  const res = await fetch(`${base}${root}/`, { headers: { 'x-csrf-token': 'Fetch', accept: 'application/json' } });
  await res.text();
  const token = res.headers.get('x-csrf-token');
  if (!token) throw new Error(`no CSRF token from ${root}`);
  return token;
}

/** A JSON write with a fresh CSRF token (v2 needs one by default). */
export async function write(base: string, root: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const token = await csrfToken(base, root);
  return call(`${base}${root}${path}`, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': token, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
