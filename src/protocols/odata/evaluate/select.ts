/**
 * $select → a projection. Names are checked against the entity type (an unknown one is a 400 naming it and the
 * near names, not a row without it); `*` or no $select is every property, in declaration order. A list keeps the
 * client's order with repeats dropped. Navigation properties cannot be selected: this server has no $expand and
 * Salesforce Connect never selects them.
 */
import type { SelectList } from '../query/ast.js';
import type { EntityType } from '../model/model.js';
import { resolveProperty } from './names.js';
import type { Row, RowValue } from './values.js';

export interface CompiledSelect {
  /** the properties a projected row has, in order */
  readonly properties: readonly string[];
  /** no $select or `*`: every property */
  readonly all: boolean;
  /** a new row with only the selected properties (the same row when `all`) */
  project(row: Row): Row;
}

export function compileSelect(type: EntityType, select: SelectList | undefined, option = '$select'): CompiledSelect {
  if (select === undefined || select === '*') {
    return { properties: type.properties.map((p) => p.name), all: true, project: (row) => row };
  }
  const names: string[] = [];
  for (const item of select) {
    const p = resolveProperty(type, item.property, option, item.pos);
    if (!names.includes(p.name)) names.push(p.name);
  }
  return {
    properties: names,
    all: false,
    project: (row) => {
      const out: Record<string, RowValue> = {};
      for (const name of names) out[name] = row[name] ?? null;
      return out;
    },
  };
}
