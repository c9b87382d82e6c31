/**
 * The OData query parser on what Salesforce Connect sends (SALESFORCE.md §3, replayed literally), on the v2/v4
 * dialect differences, on the unsupported constructs it must refuse rather than misread, and on hostile input.
 */
import { describe, expect, test } from 'vitest';
import {
  type FilterExpr,
  MAX_DEPTH,
  type ODataDialect,
  QueryError,
  parseFilter,
  parseLiteral,
  parseOrderBy,
  parseQueryString,
  parseSearch,
  parseSelect,
  parseTop,
  parseSkip,
} from '../../../../src/protocols/odata/query/index.js';

/** The QueryError `fn` throws (fails the test when it throws nothing or something else). */
function refusal(fn: () => unknown): QueryError {
  try {
    fn();
  } catch (e) {
    if (e instanceof QueryError) return e;
    throw e;
  }
  throw new Error('expected a QueryError, but it parsed');
}

/** A compact rendering of a filter, for readable expectations. */
function show(e: FilterExpr): string {
  switch (e.kind) {
    case 'null':
      return 'null';
    case 'literal':
      return 'text' in e ? `${e.text}:${e.type.slice(4)}` : `${JSON.stringify(e.value)}:${e.type.slice(4)}`;
    case 'property':
      return e.name;
    case 'compare':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'and':
    case 'or':
      return `(${show(e.left)} ${e.kind} ${show(e.right)})`;
    case 'not':
      return `(not ${show(e.operand)})`;
    case 'call':
      return `${e.name}(${e.args.map(show).join(', ')})`;
  }
}
const f = (text: string, dialect: ODataDialect = 'v4'): string => show(parseFilter(text, dialect));
const query = (url: string, dialect: ODataDialect) => parseQueryString(url.slice(url.indexOf('?') + 1), dialect);

describe('the request shapes of SALESFORCE.md §3, literally', () => {
  test('v4, any SOQL: $select, $count, $top', () => {
    expect(query('GET …/Suppliers?$select=SupplierID&$count=true&$top=26', 'v4')).toEqual({
      custom: {},
      select: [{ property: 'SupplierID', pos: 0 }],
      count: true,
      top: 26,
    });
  });

  test("v4, SOQL WHERE Country__c='USA' ORDER BY City__c ASC LIMIT 26", () => {
    const q = query("…/Suppliers?$filter=Country eq 'USA'&$orderby=City asc&$top=26", 'v4');
    expect(show(q.filter!)).toBe('(Country eq "USA":String)');
    expect(q.orderby).toEqual([{ property: 'City', direction: 'asc', pos: 0 }]);
    expect(q.top).toBe(26);
  });

  test('v4 search default: contains(…) eq true or contains(…) eq true', () => {
    const q = query(
      "…/Shippers?$select=CompanyName,Phone,ShipperID&$count=true&$filter=contains(CompanyName,'Acme') eq true or contains(Phone,'Acme') eq true&$top=25",
      'v4',
    );
    expect(q.select).toEqual([
      { property: 'CompanyName', pos: 0 },
      { property: 'Phone', pos: 12 },
      { property: 'ShipperID', pos: 18 },
    ]);
    expect(q.count).toBe(true);
    expect(q.top).toBe(25);
    expect(show(q.filter!)).toBe(
      '((contains(CompanyName, "Acme":String) eq true:Boolean) or (contains(Phone, "Acme":String) eq true:Boolean))',
    );
  });

  test('v4 free-text search: $search=Acme', () => {
    const q = query('…/Shippers?$select=CompanyName,Phone,ShipperID&$count=true&$search=Acme&$top=25', 'v4');
    expect(q.search).toEqual({ kind: 'term', text: 'Acme', phrase: false, pos: 0 });
  });

  test("v2 search default: substringof('Acme',…)+eq+true+or+… with '+' as spaces, $inlinecount", () => {
    const q = query(
      "…/Shippers?$select=CompanyName,Phone,ShipperID&$inlinecount=allpages&$filter=substringof('Acme',CompanyName)+eq+true+or+substringof('Acme',Phone)+eq+true&$top=25",
      'v2',
    );
    expect(q.count).toBe(true);
    expect(q.top).toBe(25);
    expect(show(q.filter!)).toBe(
      '((substringof("Acme":String, CompanyName) eq true:Boolean) or (substringof("Acme":String, Phone) eq true:Boolean))',
    );
  });

  test('v2 custom search option: doSearch=Acme', () => {
    const q = query('…/Shippers?$select=CompanyName,Phone,ShipperID&$inlinecount=allpages&doSearch=Acme&$top=25', 'v2');
    expect(q.doSearch).toBe('Acme');
    expect(q.custom).toEqual({});
  });

  test('a next link Salesforce followed: $skiptoken kept opaque', () => {
    const q = query('…/Warehouse.svc/Orders?$count=true&$select=CustomerID,OrderID,RequiredDate,ShippedDate&$top=301&$skiptoken=10447', 'v4');
    expect(q.skiptoken).toBe('10447');
    expect(q.top).toBe(301);
  });

  test('EventLogFile example filter: CustomerID eq 12345', () => {
    expect(f('CustomerID eq 12345')).toBe('(CustomerID eq 12345:Int32)');
  });

  test('the same search phrase percent-encoded, as a browser or Apex would send it', () => {
    const q = query("?$filter=contains(Name,%27Sales%20Marketing%27)%20eq%20true", 'v4');
    expect(show(q.filter!)).toBe('(contains(Name, "Sales Marketing":String) eq true:Boolean)');
  });

  test('$count=false (4.0 without Request Row Counts) and $top=0 (change tracking)', () => {
    expect(query('?$count=false&$top=0', 'v4')).toEqual({ custom: {}, count: false, top: 0 });
  });
});

describe('filter grammar', () => {
  test('precedence: not > comparisons > and > or, left-associative', () => {
    expect(f('A eq 1 or B eq 2 and C eq 3')).toBe('((A eq 1:Int32) or ((B eq 2:Int32) and (C eq 3:Int32)))');
    expect(f('(A eq 1 or B eq 2) and C eq 3')).toBe('(((A eq 1:Int32) or (B eq 2:Int32)) and (C eq 3:Int32))');
    expect(f('A and B and C')).toBe('((A and B) and C)');
    expect(f("not endswith(Name,'ilk')")).toBe('(not endswith(Name, "ilk":String))');
    expect(f('not (A eq 1)')).toBe('(not (A eq 1:Int32))');
    expect(f('not A eq true')).toBe('((not A) eq true:Boolean)');
  });

  test('keywords in any case, whitespace as the ABNF allows', () => {
    expect(f("Name EQ 'Milk' AND Price LT 2.55")).toBe('((Name eq "Milk":String) and (Price lt 2.55:Decimal))');
    expect(f("Name\teq\t'x'")).toBe('(Name eq "x":String)');
    expect(f("startswith( Name , 'a' )")).toBe('startswith(Name, "a":String)');
    expect(f('( true )')).toBe('true:Boolean');
  });

  test('every comparison operator and supported function', () => {
    for (const op of ['eq', 'ne', 'gt', 'ge', 'lt', 'le']) expect(f(`Qty ${op} 5`)).toBe(`(Qty ${op} 5:Int32)`);
    expect(f("tolower(Name) eq 'a' and toupper(Name) eq 'A' and trim(Name) eq 'x' and length(Name) gt 3")).toContain('length(Name)');
    expect(f('year(D) eq 2024 and month(D) eq 2 and day(D) eq 29')).toBe(
      '(((year(D) eq 2024:Int32) and (month(D) eq 2:Int32)) and (day(D) eq 29:Int32))',
    );
    expect(f('Name eq null and null ne Name')).toBe('((Name eq null) and (null ne Name))');
  });

  test("strings: '' is a quote, anything else is kept", () => {
    expect(parseLiteral("'O''Neil'", 'v4')).toMatchObject({ type: 'Edm.String', value: "O'Neil" });
    expect(parseLiteral("''''", 'v4')).toMatchObject({ value: "'" });
    expect(parseLiteral("''", 'v4')).toMatchObject({ value: '' });
    expect(f("Name eq 'a and b or (c)'")).toBe('(Name eq "a and b or (c)":String)');
  });

  test('v4 literals: numbers, dates, date-times, GUIDs', () => {
    expect(parseLiteral('42', 'v4')).toMatchObject({ type: 'Edm.Int32', value: 42 });
    expect(parseLiteral('-2147483649', 'v4')).toMatchObject({ type: 'Edm.Int64' });
    expect(parseLiteral('9223372036854775807', 'v4')).toMatchObject({ type: 'Edm.Int64', text: '9223372036854775807' });
    expect(parseLiteral('99999999999999999999', 'v4')).toMatchObject({ type: 'Edm.Decimal' });
    expect(parseLiteral('1.50', 'v4')).toMatchObject({ type: 'Edm.Decimal', value: 1.5, text: '1.50' });
    expect(parseLiteral('1e3', 'v4')).toMatchObject({ type: 'Edm.Double', value: 1000 });
    expect(parseLiteral('-INF', 'v4')).toMatchObject({ type: 'Edm.Double', value: -Infinity });
    expect(parseLiteral('2012-09-03', 'v4')).toMatchObject({ type: 'Edm.Date', value: '2012-09-03' });
    expect(parseLiteral('2012-09-03T13:52:00Z', 'v4')).toMatchObject({ type: 'Edm.DateTimeOffset', value: '2012-09-03T13:52:00Z' });
    expect(parseLiteral('2012-09-03T13:52:00.1234567+02:00', 'v4')).toMatchObject({ type: 'Edm.DateTimeOffset' });
    expect(parseLiteral('01234567-89AB-cdef-0123-456789abcdef', 'v4')).toMatchObject({ type: 'Edm.Guid', value: '01234567-89ab-cdef-0123-456789abcdef' });
    expect(refusal(() => parseLiteral('01234567-89ab-cdef-456789abcdef', 'v4')).message).toBe(
      'malformed GUID: expected 8-4-4-4-12 hexadecimal digits like 01234567-89ab-cdef-0123-456789abcdef (at 0)',
    );
    expect(f('ReleaseDate gt 2013-05-24 and Modified le 2024-01-01T00:00:00Z')).toBe(
      '((ReleaseDate gt "2013-05-24":Date) and (Modified le "2024-01-01T00:00:00Z":DateTimeOffset))',
    );
  });
});

describe('the v2 dialect', () => {
  test('substringof, startswith, endswith', () => {
    expect(f("substringof('x',Name) eq true and startswith(Name,'a') and endswith(Name,'z')", 'v2')).toBe(
      '(((substringof("x":String, Name) eq true:Boolean) and startswith(Name, "a":String)) and endswith(Name, "z":String))',
    );
  });

  test("datetime'…', datetimeoffset'…', guid'…'", () => {
    expect(parseLiteral("datetime'2012-09-03T13:52:00'", 'v2')).toMatchObject({ type: 'Edm.DateTime', value: '2012-09-03T13:52:00' });
    expect(parseLiteral("datetime'2012-09-03T13:52'", 'v2')).toMatchObject({ type: 'Edm.DateTime' });
    expect(parseLiteral("datetime'2012-09-03T13:52:00.1234567'", 'v2')).toMatchObject({ type: 'Edm.DateTime' });
    expect(parseLiteral("datetimeoffset'2012-09-03T13:52:00Z'", 'v2')).toMatchObject({ type: 'Edm.DateTimeOffset' });
    expect(parseLiteral("datetimeoffset'2012-09-03T13:52:00-05:00'", 'v2')).toMatchObject({ type: 'Edm.DateTimeOffset' });
    expect(parseLiteral("guid'01234567-89ab-cdef-0123-456789abcdef'", 'v2')).toMatchObject({ type: 'Edm.Guid' });
    expect(f("Created ge datetime'2024-01-01T00:00:00'", 'v2')).toBe('(Created ge "2024-01-01T00:00:00":DateTime)');
  });

  test('suffixed numbers: 12L, 2.0M, 1.5m, 2.0d, 1f', () => {
    expect(parseLiteral('12L', 'v2')).toMatchObject({ type: 'Edm.Int64', value: 12, text: '12' });
    expect(parseLiteral('2.0M', 'v2')).toMatchObject({ type: 'Edm.Decimal', value: 2, text: '2.0' });
    expect(parseLiteral('1.5m', 'v2')).toMatchObject({ type: 'Edm.Decimal', value: 1.5 });
    expect(parseLiteral('2.0d', 'v2')).toMatchObject({ type: 'Edm.Double', value: 2 });
    expect(parseLiteral('1f', 'v2')).toMatchObject({ type: 'Edm.Single', value: 1 });
    expect(f('Id eq 12L and Amount gt 1.5M', 'v2')).toBe('((Id eq 12:Int64) and (Amount gt 1.5:Decimal))');
  });

  test('malformed v2 literals say what is expected, where', () => {
    expect(refusal(() => parseLiteral('1.5L', 'v2')).message).toBe("the suffix 'L' (Int64) needs a whole number (at 3)");
    expect(refusal(() => parseLiteral("datetime'2012-09-03'", 'v2')).message).toBe("expected 'T' and a time of day in datetime'…' (at 19)");
    expect(refusal(() => parseLiteral("datetime'2012-09-03T13:52:00Z'", 'v2')).message).toContain("datetime'…' takes no offset");
    expect(refusal(() => parseLiteral("datetime'2012-13-03T13:52'", 'v2')).message).toBe('expected a month (01–12) but found 13 (at 14)');
    expect(refusal(() => parseLiteral("guid'0123'", 'v2')).message).toContain('expected a GUID');
  });

  test('each dialect refuses the other’s syntax, naming its own', () => {
    expect(refusal(() => parseFilter("substringof('x',Name) eq true", 'v4')).message).toBe(
      '$filter: the function substringof is OData 2.0; in OData 4.0 use contains (at 0)',
    );
    expect(refusal(() => parseFilter("contains(Name,'x') eq true", 'v2')).message).toBe(
      '$filter: the function contains is OData 4.0; in OData 2.0 use substringof (at 0)',
    );
    expect(refusal(() => parseFilter('Id eq 12L', 'v4')).message).toBe(
      "$filter: the number suffix 'L' is OData 2.0; in OData 4.0 write the number without it (at 8)",
    );
    expect(refusal(() => parseFilter("D eq datetime'2012-09-03T00:00:00'", 'v4')).message).toContain(
      "the literal datetime'…' is OData 2.0; in OData 4.0 write an unquoted 2012-09-03T13:52:00Z (at 5)",
    );
    expect(refusal(() => parseFilter('D eq 2012-09-03T00:00:00Z', 'v2')).message).toContain(
      "an unquoted date/time is OData 4.0; in OData 2.0 write datetime'yyyy-mm-ddThh:mm:ss' (at 5)",
    );
    expect(refusal(() => parseFilter('G eq 01234567-89ab-cdef-0123-456789abcdef', 'v2')).message).toContain("write guid'");
    expect(refusal(() => parseQueryString('$count=true', 'v2')).message).toBe('$count: $count=… is not OData 2.0; use $inlinecount=allpages (at 0)');
    expect(refusal(() => parseQueryString('$inlinecount=allpages', 'v4')).message).toBe(
      '$inlinecount: $inlinecount is OData 2.0; in OData 4.0 use $count=true (at 0)',
    );
    expect(refusal(() => parseQueryString('$search=Acme', 'v2')).message).toContain('Salesforce sends doSearch= instead');
    // Without '$' a name is a system option only in 4.01; in v2 it is a custom option.
    expect(parseQueryString('filter=true', 'v2')).toEqual({ custom: { filter: 'true' } });
    expect(show(parseQueryString('filter=true', 'v4').filter!)).toBe('true:Boolean');
  });
});

describe('valid OData outside the supported grammar is refused as not supported, never misread', () => {
  test.each([
    ['Products/any(p:p/Price gt 1)', 'the lambda operator any is not supported (at 9)'],
    ['Products/all(p:true)', 'the lambda operator all is not supported (at 9)'],
    ["endswith($it,'.com')", '$it is not supported (at 9)'],
    ['$root/Customers', '$root is not supported (at 0)'],
    ['Price add 2 eq 5', "the arithmetic operator 'add' is not supported (at 6)"],
    ['-Price eq 5', 'negation (unary -) is not supported (at 0)'],
    ['Price mod 2 eq 0', "the arithmetic operator 'mod' is not supported (at 6)"],
    ["Name in ('a','b')", "the operator 'in' is not supported (at 5)"],
    ["style has Sales.Pattern'Yellow'", "the operator 'has' is not supported (at 6)"],
    ["style eq Sales.Pattern'Yellow'", "enumeration literals (Sales.Pattern'…') are not supported (at 9)"],
    ['cast(Price,Edm.Decimal) eq 1', 'the function cast is not supported'],
    ['isof(Model.Customer)', 'the function isof is not supported'],
    ["geo.intersects(Location,geography'POINT(1 2)')", 'the function geo.intersects is not supported (at 0)'],
    ["concat(A,B) eq 'x'", 'the function concat is not supported'],
    ['Supplier/Name eq 1', 'navigation and property paths (A/B) are not supported; only plain property names are (at 8)'],
    ['Title eq @p', 'parameter aliases (@name) and annotations are not supported (at 9)'],
    ['Tags eq ["a"]', 'JSON arrays and objects are not supported (at 8)'],
    ["D eq duration'P1D'", "Edm.Duration literals (duration'…') are not supported (at 5)"],
    ["B eq binary'AA=='", "Edm.Binary literals (binary'…') are not supported (at 5)"],
  ])('%s', (text, message) => {
    expect(refusal(() => parseFilter(text, 'v4')).message).toContain(message);
  });

  test('$format and $deltatoken are handed on as given (the engine decides what it serves)', () => {
    expect(parseQueryString('$format=json', 'v2').format).toBe('json');
    expect(parseQueryString('$format=application%2Fatom%2Bxml', 'v2').format).toBe('application/atom+xml');
    expect(parseQueryString('$deltatoken=abc&$top=0', 'v4')).toMatchObject({ deltatoken: 'abc', top: 0 });
    expect(refusal(() => parseQueryString('$deltatoken=', 'v4')).message).toContain('empty');
  });

  test('unsupported system options and aliases in a query string', () => {
    expect(refusal(() => parseQueryString('$expand=Orders', 'v4')).message).toBe('$expand: the system query option $expand is not supported (at 0)');
    expect(refusal(() => parseQueryString('$levels=2', 'v4')).message).toContain('$levels is not supported');
    expect(refusal(() => parseQueryString('$deltatoken=abc', 'v2')).message).toContain('change tracking is OData 4.0');
    expect(refusal(() => parseQueryString('$filter=Name eq @n&@n=1', 'v4')).message).toContain('not supported');
    expect(refusal(() => parseQueryString('$frobnicate=1', 'v4')).message).toBe('$frobnicate: unknown system query option $frobnicate (at 0)');
    expect(refusal(() => parseQueryString('$top=1&$top=2', 'v4')).message).toContain('more than once');
  });
});

describe('$orderby, $select, $top, $skip, $search', () => {
  test('$orderby', () => {
    expect(parseOrderBy('Name desc,Id,Created asc')).toEqual([
      { property: 'Name', direction: 'desc', pos: 0 },
      { property: 'Id', direction: 'asc', pos: 10 },
      { property: 'Created', direction: 'asc', pos: 13 },
    ]);
    expect(refusal(() => parseOrderBy('Name sideways')).message).toBe("$orderby: expected 'asc' or 'desc' but found 'sideways' (at 5)");
    expect(refusal(() => parseOrderBy('Name,')).message).toBe('$orderby: expected a property name but found the end of the text (at 5)');
    expect(refusal(() => parseOrderBy('Supplier/Name')).message).toContain('paths (A/B) in $orderby are not supported');
  });

  test('$select', () => {
    expect(parseSelect('*')).toBe('*');
    expect(parseSelect('A,B')).toEqual([
      { property: 'A', pos: 0 },
      { property: 'B', pos: 2 },
    ]);
    expect(refusal(() => parseSelect('A, B')).message).toBe("$select: expected a property name or * but found ' ' (at 2)");
    expect(refusal(() => parseSelect('A,*')).message).toContain("'*' may only stand alone");
    expect(refusal(() => parseSelect('')).message).toContain('expected a property name');
  });

  test('$top and $skip', () => {
    expect(parseTop('0')).toBe(0);
    expect(parseSkip('2000')).toBe(2000);
    expect(refusal(() => parseTop('-1')).message).toBe("$top: expected a non-negative whole number (digits only) but found '-' (at 0)");
    expect(refusal(() => parseSkip('1.5')).message).toBe("$skip: expected a non-negative whole number (digits only) but found '.' (at 1)");
    expect(refusal(() => parseTop('')).message).toContain('empty');
    expect(refusal(() => parseTop('99999999999999999999')).message).toContain('too large');
  });

  test('$search: terms, phrases, AND/OR/NOT with precedence, and the words AND/OR/NOT', () => {
    const s = (text: string): string => {
      const go = (e: ReturnType<typeof parseSearch>): string =>
        e.kind === 'term' ? (e.phrase ? JSON.stringify(e.text) : e.text) : e.kind === 'not' ? `(NOT ${go(e.operand)})` : `(${go(e.left)} ${e.kind.toUpperCase()} ${go(e.right)})`;
      return go(parseSearch(text));
    };
    expect(s('blue green')).toBe('(blue AND green)');
    expect(s('foo AND bar OR foo AND baz')).toBe('((foo AND bar) OR (foo AND baz))');
    expect(s('NOT foo OR baz')).toBe('((NOT foo) OR baz)');
    expect(s('(foo OR that) AND (bar OR baz) AND NOT quux')).toBe('(((foo OR that) AND (bar OR baz)) AND (NOT quux))');
    expect(s('"blue green" OR Acme')).toBe('("blue green" OR Acme)');
    expect(s('AND')).toBe('AND');
    expect(s('NOT NOT')).toBe('(NOT NOT)');
    expect(s('AND OR NOT')).toBe('(AND OR NOT)');
    expect(s("Daniel's")).toBe("Daniel's");
    expect(refusal(() => parseSearch('"blue')).message).toBe('$search: unterminated phrase: no closing double quote (at 0)');
    expect(refusal(() => parseSearch('(blue')).message).toBe("$search: expected ')' to close the '(' but found the end of the text (at 0)");
    expect(refusal(() => parseSearch('blue)')).message).toBe("$search: unbalanced ')' (at 4)");
    expect(refusal(() => parseSearch('')).message).toContain('empty');
  });
});

describe('hostile input ends in a QueryError with a clear message', () => {
  test('a 100 KB $filter is refused as too long, before parsing', () => {
    const text = Array.from({ length: 6000 }, (_, i) => `Name eq 'value${i}'`).join(' or ');
    expect(text.length).toBeGreaterThan(100_000);
    expect(refusal(() => parseFilter(text, 'v4')).message).toMatch(/^\$filter: the text is \d+ characters long; at most 65536 are accepted \(at 65536\)$/);
  });

  test('a 60 KB or-chain below the limit parses quickly (no recursion per operand)', () => {
    const text = Array.from({ length: 3000 }, (_, i) => `Id eq ${i}`).join(' or ');
    const start = performance.now();
    const e = parseFilter(text, 'v4');
    expect(performance.now() - start).toBeLessThan(1000);
    expect(e.kind).toBe('or');
  });

  test('1000 nested parentheses: a QueryError about depth, not a stack overflow', () => {
    const text = `${'('.repeat(1000)}true${')'.repeat(1000)}`;
    expect(refusal(() => parseFilter(text, 'v4')).message).toBe(
      `$filter: the expression is nested too deeply (more than ${MAX_DEPTH} levels) (at ${MAX_DEPTH})`,
    );
    expect(refusal(() => parseSearch(`${'('.repeat(1000)}x${')'.repeat(1000)}`)).message).toContain('nested too deeply');
  });

  test('deep nesting of not and of function calls is bounded too', () => {
    expect(refusal(() => parseFilter(`${'not '.repeat(1000)}true`, 'v4')).message).toContain('nested too deeply');
    expect(refusal(() => parseFilter(`${'tolower('.repeat(1000)}Name${')'.repeat(1000)} eq 'a'`, 'v4')).message).toContain('nested too deeply');
    expect(f(`${'('.repeat(MAX_DEPTH - 1)}true${')'.repeat(MAX_DEPTH - 1)}`)).toBe('true:Boolean');
  });

  test('control characters are refused with their code point and position', () => {
    expect(refusal(() => parseFilter("Name eq 'a\u0000b'", 'v4')).message).toBe("$filter: control character U+0000 is not allowed (at 10)");
    expect(refusal(() => parseFilter("Name eq 'a'\r\n", 'v4')).message).toBe('$filter: control character U+000D is not allowed (at 11)');
    expect(refusal(() => parseQueryString('$filter=Name%20eq%20%27%1B%27', 'v4')).message).toBe('$filter: control character U+001B is not allowed (at 9)');
    expect(refusal(() => parseSearch('a\u007fb')).message).toContain('U+007F');
  });

  test('unterminated strings point at the opening quote', () => {
    expect(refusal(() => parseFilter("Name eq 'abc", 'v4')).message).toBe('$filter: unterminated string literal: no closing quote (at 8)');
    expect(refusal(() => parseFilter("Name eq 'O'Neil'", 'v4')).message).toBe("$filter: unexpected 'Neil' (at 11)");
    expect(refusal(() => parseFilter("contains(Name,'x) eq true", 'v4')).message).toBe('$filter: unterminated string literal: no closing quote (at 14)');
  });

  test('other malformed filters say what was expected', () => {
    expect(refusal(() => parseFilter('', 'v4')).message).toBe('$filter: expected an expression but the text is empty (at 0)');
    expect(refusal(() => parseFilter('Name eq', 'v4')).message).toBe("$filter: expected an operator (eq, ne, gt, ge, lt, le, and, or) but found 'eq' (at 5)");
    expect(refusal(() => parseFilter("Name eq 'a' and", 'v4')).message).toContain("expected an operator");
    expect(refusal(() => parseFilter('(Name eq 1', 'v4')).message).toBe("$filter: expected ')' to close the '(' but found the end of the text (at 0)");
    expect(refusal(() => parseFilter('Name eq 1)', 'v4')).message).toBe("$filter: unbalanced ')' (at 9)");
    expect(refusal(() => parseFilter("contains(Name)", 'v4')).message).toBe('$filter: contains takes 2 arguments, not 1 (at 0)');
    expect(refusal(() => parseFilter('Price eq 42.', 'v4')).message).toBe("$filter: expected a digit after '.' (at 12)");
    expect(refusal(() => parseFilter(' true', 'v4')).message).toBe('$filter: the expression may not start with whitespace (at 0)');
    expect(refusal(() => parseQueryString('$filter=Name%ZZ', 'v4')).message).toBe('$filter: malformed percent-encoding (at 4)');
  });
});
