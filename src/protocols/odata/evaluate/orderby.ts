/**
 * $orderby → a total order over rows. The entity key is appended as the final tiebreaker (unless the order
 * already contains all of it), so no two rows ever compare equal: that is what makes a page boundary a point
 * ("after this row") and keyset paging (skiptoken.ts, page.ts) exact. Nulls sort before values ascending and
 * after them descending (OData 4.01 Part 2 §5.1.1.10, "null values come before non-null values").
 *
 * The order works on sort keys — the row's values of the ordering properties in comparable form (values.ts:
 * instants as ms, GUIDs lower-cased) — so a $skiptoken can hold the last row's keys and a row can be placed
 * relative to them without the row itself (keyOf / compareKeys / compare).
 */
import type { OrderByItem } from '../query/ast.js';
import type { EntityType } from '../model/model.js';
import { QueryTypeError } from './errors.js';
import { resolveProperty } from './names.js';
import { compareValues, type Kind, kindOf, normalize, type Row, type RowValue } from './values.js';

export interface SortKey {
  readonly property: string;
  readonly kind: Kind;
  readonly descending: boolean;
  readonly nullable: boolean;
}

export interface CompiledOrder {
  /** the requested items, then the key properties not among them */
  readonly keys: readonly SortKey[];
  /** the order is the entity key's, ascending (a single-property key): a source can scan it without sorting */
  readonly keyOrder: boolean;
  /** the entity key property when the key is a single property */
  readonly keyProperty?: string;
  keyOf(row: Row): RowValue[];
  compareKeys(a: readonly RowValue[], b: readonly RowValue[]): number;
  compare(a: Row, b: Row): number;
}

/** Checks the names of `items` (undefined/empty: key order) against `type` and builds the order. */
export function compileOrderBy(type: EntityType, items: readonly OrderByItem[] | undefined, option = '$orderby'): CompiledOrder {
  const keys: SortKey[] = [];
  const seen = new Set<string>();
  for (const item of items ?? []) {
    const p = resolveProperty(type, item.property, option, item.pos);
    const kind = kindOf(p.type);
    if (!kind) throw new QueryTypeError(option, item.pos, `${p.name} is ${p.type}, which cannot be ordered by`);
    if (seen.has(p.name)) continue; // a repeated property cannot change the order
    seen.add(p.name);
    keys.push({ property: p.name, kind, descending: item.direction === 'desc', nullable: p.nullable });
  }
  if (!type.key.every((k) => seen.has(k))) {
    for (const k of type.key) {
      if (seen.has(k)) continue;
      const p = type.property(k)!;
      keys.push({ property: k, kind: kindOf(p.type)!, descending: false, nullable: p.nullable });
    }
  }
  const keyProperty = type.key.length === 1 ? type.key[0] : undefined;
  const keyOrder = keyProperty !== undefined && keys[0].property === keyProperty && !keys[0].descending;
  return orderOf(keys, keyOrder, keyProperty);
}

function orderOf(keys: SortKey[], keyOrder: boolean, keyProperty: string | undefined): CompiledOrder {
  const n = keys.length;
  const names = keys.map((k) => k.property);
  const kinds = keys.map((k) => k.kind);
  const plain = kinds.map((k) => k !== 'instant' && k !== 'guid');
  const sign = keys.map((k) => (k.descending ? -1 : 1));
  const keyOf = (row: Row): RowValue[] => {
    const out = new Array<RowValue>(n);
    for (let i = 0; i < n; i++) {
      const v = row[names[i]] ?? null;
      out[i] = plain[i] ? v : normalize(kinds[i], v);
    }
    return out;
  };
  const compareKeys = (a: readonly RowValue[], b: readonly RowValue[]): number => {
    for (let i = 0; i < n; i++) {
      const x = a[i];
      const y = b[i];
      if (x === y) continue;
      // nulls first ascending, last descending
      const c = x === null ? -1 : y === null ? 1 : compareValues(x, y);
      if (c !== 0 && !Number.isNaN(c)) return c * sign[i];
    }
    return 0;
  };
  return { keys, keyOrder, keyProperty, keyOf, compareKeys, compare: (a, b) => compareKeys(keyOf(a), keyOf(b)) };
}
