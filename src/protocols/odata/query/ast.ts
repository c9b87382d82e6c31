/**
 * The typed result of parsing OData system query options. Every node carries `pos`, its 0-based offset in the
 * option's decoded text, so a later step (checking names against the CSDL, typing) can point at the culprit.
 */

export type EdmLiteralType =
  | 'Edm.Boolean'
  | 'Edm.String'
  | 'Edm.Int32'
  | 'Edm.Int64'
  | 'Edm.Decimal'
  | 'Edm.Double'
  | 'Edm.Single'
  | 'Edm.Date'
  | 'Edm.DateTime'
  | 'Edm.DateTimeOffset'
  | 'Edm.Guid';

export type LiteralNode =
  | { kind: 'null'; pos: number }
  | { kind: 'literal'; type: 'Edm.Boolean'; value: boolean; pos: number }
  | { kind: 'literal'; type: 'Edm.String'; value: string; pos: number }
  /**
   * Numbers keep their text (`text`, sign and digits as written, without any v2 suffix) besides `value`, so
   * Int64 and Decimal values beyond 2^53 lose nothing. `value` is NaN / ±Infinity for `NaN` / `INF` / `-INF`.
   */
  | {
      kind: 'literal';
      type: 'Edm.Int32' | 'Edm.Int64' | 'Edm.Decimal' | 'Edm.Double' | 'Edm.Single';
      value: number;
      text: string;
      pos: number;
    }
  /**
   * Dates and times keep the text as written (e.g. `2012-09-03`, `2012-09-03T13:52:00+02:00`): years may be
   * negative or above 9999 and seconds may be 60, which JavaScript's Date cannot hold.
   * `Edm.DateTime` is v2's offset-less `datetime'…'`.
   */
  | { kind: 'literal'; type: 'Edm.Date' | 'Edm.DateTime' | 'Edm.DateTimeOffset'; value: string; pos: number }
  /** Lower-cased. */
  | { kind: 'literal'; type: 'Edm.Guid'; value: string; pos: number };

export interface PropertyNode {
  kind: 'property';
  name: string;
  pos: number;
}

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export interface ComparisonNode {
  kind: 'compare';
  op: ComparisonOperator;
  left: FilterExpr;
  right: FilterExpr;
  pos: number;
}

export interface LogicalNode {
  kind: 'and' | 'or';
  left: FilterExpr;
  right: FilterExpr;
  pos: number;
}

export interface NotNode {
  kind: 'not';
  operand: FilterExpr;
  pos: number;
}

/** The functions the parser accepts; which of them a dialect allows is in filter.ts. */
export type FunctionName =
  | 'contains'
  | 'substringof'
  | 'startswith'
  | 'endswith'
  | 'tolower'
  | 'toupper'
  | 'length'
  | 'trim'
  | 'year'
  | 'month'
  | 'day';

export interface CallNode {
  kind: 'call';
  name: FunctionName;
  args: FilterExpr[];
  pos: number;
}

export type FilterExpr = LiteralNode | PropertyNode | ComparisonNode | LogicalNode | NotNode | CallNode;

export interface OrderByItem {
  property: string;
  direction: 'asc' | 'desc';
  pos: number;
}

/** `'*'` or the listed property names, in order, duplicates kept. */
export type SelectList = '*' | { property: string; pos: number }[];

export type SearchExpr =
  /** A word or a "quoted phrase" (or a single-quoted v4.01 "incomplete expression"), unquoted. */
  | { kind: 'term'; text: string; phrase: boolean; pos: number }
  | { kind: 'not'; operand: SearchExpr; pos: number }
  | { kind: 'and' | 'or'; left: SearchExpr; right: SearchExpr; pos: number };

/** The system query options of one request, parsed; absent ones are undefined. */
export interface ParsedQuery {
  filter?: FilterExpr;
  select?: SelectList;
  orderby?: OrderByItem[];
  top?: number;
  skip?: number;
  /** v4 `$count=true|false`, or v2 `$inlinecount=allpages|none` (allpages ⇒ true). */
  count?: boolean;
  /** v4 `$search`. */
  search?: SearchExpr;
  /** v2 Salesforce custom search option `doSearch=` (the raw decoded text). */
  doSearch?: string;
  /** Opaque server-issued paging token. */
  skiptoken?: string;
  /** v4: opaque server-issued delta link token (change tracking). */
  deltatoken?: string;
  /** `$format` as given (json, atom, xml or a media type): the engine decides which it serves. */
  format?: string;
  /** Custom query options (names without `$`), decoded, in order of appearance. */
  custom: Record<string, string>;
}
