/**
 * Loads the OASIS OData ABNF test cases and runs one through this server's query parser. Shared by the
 * conformance test; kept apart so the rule → entry-point mapping reads on its own.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import {
  type LiteralNode,
  type ParsedQuery,
  parseFilter,
  parseIdentifier,
  parseLiteral,
  parseQueryString,
  parseSearch,
} from '../../../../src/protocols/odata/query/index.js';

/**
 * A copy of the OASIS suite (odata-abnf-testcases.yaml, 17 September 2020, unchanged, its header naming its
 * source), kept in the checkout so that CI, which has only the repository, runs it too.
 */
export const ABNF_CASES_FILE = new URL('../../../fixtures/odata-abnf/odata-abnf-testcases.yaml', import.meta.url);

export interface AbnfCase {
  Name: string;
  Rule: string;
  Input: string;
  FailAt?: number;
}

export function loadCases(): AbnfCase[] {
  const doc = parse(readFileSync(ABNF_CASES_FILE, 'utf8')) as { TestCases: AbnfCase[] };
  return doc.TestCases.map((c) => ({ ...c, Input: String(c.Input ?? '') }));
}

/** Percent-decoding only: in these rules' URL text a '+' is a plus sign, not a space. */
function pct(input: string): string {
  return decodeURIComponent(input);
}

/** The text parsed, but not as what the rule asks for (e.g. a number where the rule wants a date). */
export class RuleMismatch extends Error {}

function option(field: keyof ParsedQuery): (input: string) => void {
  return (input) => {
    const q = parseQueryString(input, 'v4');
    if (q[field] === undefined) throw new RuleMismatch(`not read as ${String(field)}`);
  };
}

function literal(accept: (l: LiteralNode) => boolean, decode: boolean): (input: string) => void {
  return (input) => {
    const lit = parseLiteral(decode ? pct(input) : input, 'v4');
    if (!accept(lit)) throw new RuleMismatch(`parsed as ${lit.kind === 'null' ? 'null' : lit.type}`);
  };
}

const isType =
  (...types: string[]) =>
  (l: LiteralNode): boolean =>
    l.kind === 'literal' && types.includes(l.type);
const NUMBER = isType('Edm.Int32', 'Edm.Int64', 'Edm.Decimal', 'Edm.Double', 'Edm.Single');
const INTEGER = isType('Edm.Int32', 'Edm.Int64');

/**
 * ABNF rule → the entry point that implements it. Rules not listed are not implemented by this parser (resource
 * paths, $expand, headers, payload-only and unsupported literal types, …) and their cases are not run.
 * `*Value` rules are the payload forms (no percent-decoding); `*Literal` and the option rules are URL text.
 */
export const RULES: Record<string, (input: string) => void> = {
  filter: option('filter'),
  boolCommonExpr: (i) => void parseFilter(pct(i), 'v4'),
  boolcommonExpr: (i) => void parseFilter(pct(i), 'v4'),
  commonExpr: (i) => void parseFilter(pct(i), 'v4'),
  notExpr: (i) => void parseFilter(pct(i), 'v4'),
  orderby: option('orderby'),
  orderBy: option('orderby'),
  select: option('select'),
  search: option('search'),
  searchExpr: (i) => void parseSearch(pct(i), 'v4'),
  skiptoken: option('skiptoken'),
  queryOptions: (i) => void parseQueryString(i, 'v4'),
  customQueryOption: (i) => void parseQueryString(i, 'v4'),
  systemQueryOption: (i) => void parseQueryString(i, 'v4'),
  odataIdentifier: (i) => void parseIdentifier(i),
  primitiveLiteral: literal(() => true, true),
  null: literal((l) => l.kind === 'null', true),
  boolean: literal(isType('Edm.Boolean'), true),
  booleanValue: literal(isType('Edm.Boolean'), false),
  stringLiteral: literal(isType('Edm.String'), true),
  decimalValue: literal(NUMBER, false),
  decimalLiteral: literal(NUMBER, true),
  doubleValue: literal(NUMBER, false),
  doubleLiteral: literal(NUMBER, true),
  singleValue: literal(NUMBER, false),
  singleLiteral: literal(NUMBER, true),
  byteValue: literal(INTEGER, false),
  sbyteValue: literal(INTEGER, false),
  sbyteLiteral: literal(INTEGER, true),
  int16Value: literal(INTEGER, false),
  int16Literal: literal(INTEGER, true),
  int32Value: literal(INTEGER, false),
  int32Literal: literal(INTEGER, true),
  int64Value: literal(INTEGER, false),
  int64Literal: literal(INTEGER, true),
  date: literal(isType('Edm.Date'), true),
  dateValue: literal(isType('Edm.Date'), false),
  dateTimeOffsetValue: literal(isType('Edm.DateTimeOffset'), false),
  dateTimeOffsetLiteral: literal(isType('Edm.DateTimeOffset'), true),
  dateTimeOffsetValueInUrl: literal(isType('Edm.DateTimeOffset'), true),
  guid: literal(isType('Edm.Guid'), true),
  guidValue: literal(isType('Edm.Guid'), false),
};

/** Runs a case; returns the refusal (an Error) or null when it parsed. */
export function run(c: AbnfCase): Error | null {
  try {
    RULES[c.Rule](c.Input);
    return null;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}
