/**
 * OData system query options → typed AST, for the ERP's OData 2.0 and 4.0 faces (issue #12). Entry points:
 * parseQueryString (a whole query string), parseQueryOptions (already split pairs) and one parser per option.
 * The parser does not know the model: names are checked against the CSDL by the caller.
 *
 * Why hand-written (evaluated 2026-12 against SALESFORCE.md §3 and the OASIS ABNF test cases; both libraries
 * installed outside the repo and tried on the same inputs):
 *
 * | input / property                          | @odata/parser 0.2.14           | odata-v4-parser 0.1.29         |
 * |-------------------------------------------|--------------------------------|--------------------------------|
 * | contains(Name,'x') eq true (v4 SF search) | refused ("Unexpected … at 18") | refused ("Unexpected … at 18") |
 * | substringof('x',Name) eq true (v2)        | accepted as a v4 method call   | accepted as a v4 method call   |
 * | 12L, 1.5M, datetime'…' (v2 literals)      | refused                        | refused                        |
 * | unterminated 'abc                         | "Unexpected character at 4"    | "Unexpected character at 4"    |
 * | add / any() / lambdas (unsupported here)  | accepted silently              | accepted silently              |
 * | 5,000 nested parentheses                  | RangeError (stack overflow)    | RangeError (stack overflow)    |
 * | $search / $orderby / $select parsers      | via full-URI parser only       | via full-URI parser only       |
 * | dialect switch (v2 / v4)                  | none                           | none                           |
 * | error positions                           | offset only, no reason         | offset only, no reason         |
 *
 * Neither accepts the filter Salesforce sends by default for a v4 search, neither knows v2, both would need every
 * unsupported node refused by an AST walk afterwards, and both overflow the stack on nested input. The subset
 * Salesforce uses is small, so this parser is written by hand from the ABNF (odata-abnf-construction-rules.txt),
 * checked by the OASIS test cases in test/protocols/odata/query/abnf-conformance.test.ts.
 */
export type * from './ast.js';
export { QueryError } from './errors.js';
export { type ODataDialect, MAX_DEPTH, MAX_OPTION_LENGTH } from './dialect.js';
export { parseLiteral } from './literals.js';
export { parseFilter } from './filter.js';
export { parseOrderBy, parseSelect, parseSearch, parseTop, parseSkip, parseCount, parseInlineCount, parseNonNegativeInteger } from './options.js';
export { parseQueryString, parseQueryOptions, MAX_QUERY_LENGTH } from './query-string.js';
export { parseIdentifier } from './scanner.js';
