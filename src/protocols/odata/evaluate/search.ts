/**
 * Free-text search → a row predicate: v4 `$search` (a parsed SearchExpr: words, "phrases", AND/OR/NOT) and v2's
 * Salesforce custom option `doSearch=` (raw text). Salesforce sends the user's search as ONE case-sensitive phrase
 * with all ASCII punctuation except '-' removed (SALESFORCE.md §3: `Sales & Marketing` → `Sales Marketing`), so a
 * term matches a row when it is a case-sensitive substring of any of the entity's Edm.String properties; a phrase
 * matches as a whole (its words adjacent, as written); NOT/AND/OR combine. Nothing is normalised on the row side:
 * a row reading "Sales & Marketing" is not found by "Sales Marketing" — the same thing a plain substring search in
 * the external system would do, which is what the Salesforce docs tell admins to expect.
 */
import type { SearchExpr } from '../query/ast.js';
import type { EntityType } from '../model/model.js';
import { QueryTypeError } from './errors.js';
import type { RowPredicate } from './filter.js';
import type { Row } from './values.js';

function stringProperties(type: EntityType, option: string): string[] {
  const names = type.properties.filter((p) => p.type === 'Edm.String').map((p) => p.name);
  if (names.length === 0) throw new QueryTypeError(option, 0, `${type.name} has no text properties to search`);
  return names;
}

function termPredicate(names: readonly string[], text: string): RowPredicate {
  return (row: Row) => {
    for (const name of names) {
      const v = row[name];
      if (typeof v === 'string' && v.includes(text)) return true;
    }
    return false;
  };
}

/** v4 $search over the String properties of `type`. */
export function compileSearch(type: EntityType, expr: SearchExpr, option = '$search'): RowPredicate {
  const names = stringProperties(type, option);
  const build = (e: SearchExpr): RowPredicate => {
    switch (e.kind) {
      case 'term':
        return termPredicate(names, e.text);
      case 'not': {
        const p = build(e.operand);
        return (row) => !p(row);
      }
      case 'and': {
        const l = build(e.left);
        const r = build(e.right);
        return (row) => l(row) && r(row);
      }
      case 'or': {
        const l = build(e.left);
        const r = build(e.right);
        return (row) => l(row) || r(row);
      }
    }
  };
  return build(expr);
}

/** v2 `doSearch=<text>`: the whole text, trimmed, as one phrase. Empty text is refused (it would match everything). */
export function compileDoSearch(type: EntityType, text: string, option = 'doSearch'): RowPredicate {
  const phrase = text.trim();
  if (phrase.length === 0) throw new QueryTypeError(option, 0, 'the search text is empty');
  return termPredicate(stringProperties(type, option), phrase);
}
