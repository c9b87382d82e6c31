/**
 * Evaluating parsed OData queries (query/) over generic rows against the model (model/): $filter typed and
 * compiled to a predicate, $orderby to a total order, $select to a projection, $search/doSearch to a predicate,
 * $skiptoken as a keyset position bound to the request's options, and one page of a result. No HTTP here and no
 * domain: the ERP's rows come from src/systems/erp/odata-model.ts, the HTTP layer turns QueryTypeError/SkipTokenError into 400s.
 */
export { QueryTypeError, SkipTokenError } from './errors.js';
export { nearNames, resolveProperty } from './names.js';
export { type Row, type RowValue, type Kind, kindOf, instantOf, compareValues } from './values.js';
export { compileFilter, allOf, type RowPredicate, type FilterOptions } from './filter.js';
export { compileOrderBy, type CompiledOrder, type SortKey } from './orderby.js';
export { compileSelect, type CompiledSelect } from './select.js';
export { compileSearch, compileDoSearch } from './search.js';
export { requestDigest, encodeSkipToken, decodeSkipToken, MAX_SKIPTOKEN_LENGTH, type PagePosition, type DigestedOptions } from './skiptoken.js';
export { page, type RowSource, type PageOptions, type Page } from './page.js';
