/**
 * Property names of a query checked against the entity type. A client that misspells a name (or uses the v2
 * EDMX's casing from memory) gets an error naming it and the near names, not an empty result: OData says an
 * unknown property in $filter/$orderby/$select is a 400, and Salesforce shows the message to the admin.
 * Navigation properties are named as such: this server supports no paths or $expand.
 */
import type { EntityType, Property } from '../model/model.js';
import { QueryTypeError } from './errors.js';

/** Edit distance with adjacent transpositions (optimal string alignment), capped: stops once a row exceeds `cap`. */
function distance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cur[j] = Math.min(cur[j], before[j - 2] + 1);
      if (cur[j] < best) best = cur[j];
    }
    if (best > cap) return cap + 1;
    before = prev;
    prev = cur;
  }
  return prev[b.length];
}

/** The names of `type` close to `name`: same letters in another case, a small edit away, or containing it. */
export function nearNames(type: EntityType, name: string): string[] {
  const lower = name.toLowerCase();
  const cap = Math.max(1, Math.floor(name.length / 3));
  const scored: { n: string; d: number }[] = [];
  for (const p of [...type.properties, ...type.navigationProperties]) {
    const other = p.name.toLowerCase();
    let d = distance(lower, other, cap);
    if (d > cap && lower.length >= 3 && (other.includes(lower) || lower.includes(other))) d = cap;
    if (d <= cap) scored.push({ n: p.name, d });
  }
  return scored.sort((a, b) => a.d - b.d || a.n.localeCompare(b.n)).slice(0, 3).map((s) => s.n);
}

/** The primitive property `name` of `type`, or a QueryTypeError naming it and the near names. */
export function resolveProperty(type: EntityType, name: string, option: string, pos: number): Property {
  const p = type.property(name);
  if (p) return p;
  if (type.navigationProperty(name)) {
    throw new QueryTypeError(option, pos, `${name} is a navigation property of ${type.name}; only its primitive properties can be used in ${option}`);
  }
  const near = nearNames(type, name);
  const hint = near.length > 0 ? `did you mean ${near.join(' or ')}?` : `its properties are ${type.properties.map((q) => q.name).join(', ')}`;
  throw new QueryTypeError(option, pos, `${type.name} has no property '${name}' (names are case-sensitive); ${hint}`);
}
