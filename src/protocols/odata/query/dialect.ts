/**
 * The two OData dialects the parser speaks. Salesforce Connect's "OData 2.0" data sources send v2 syntax
 * (`substringof`, `datetime'…'`, `12L`, `$inlinecount`, `doSearch=`); its "OData 4.0"/"4.01" sources send v4 syntax
 * (`contains`, unquoted date/time literals, `$count`, `$search`). Each side refuses the other's syntax with a message
 * naming the equivalent, rather than guessing.
 */
export type ODataDialect = 'v2' | 'v4';

export const DIALECT_LABEL: Record<ODataDialect, string> = { v2: 'OData 2.0', v4: 'OData 4.0' };

export function otherDialect(d: ODataDialect): ODataDialect {
  return d === 'v2' ? 'v4' : 'v2';
}

/** Most characters one option's text may have; more is refused before parsing (see limits in filter.ts). */
export const MAX_OPTION_LENGTH = 65_536;
/** Deepest nesting of parentheses, function calls and `not` in $filter, and of parentheses/NOT in $search. */
export const MAX_DEPTH = 100;
