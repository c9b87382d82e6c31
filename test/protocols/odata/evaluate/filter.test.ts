/**
 * $filter typed and compiled (src/protocols/odata/evaluate/filter.ts): each operator and function on the small
 * ERP's rows against a hand-written JavaScript predicate, null semantics, case, the v2 and v4 function forms,
 * date/time literal conversions, the Salesforce request shapes of SALESFORCE.md §3, and the type errors with their
 * messages and positions.
 */
import { describe, expect, test } from 'vitest';
import { compileFilter, QueryTypeError, type Row } from '../../../../src/protocols/odata/evaluate/index.js';
import { parseFilter, parseQueryString, type ODataDialect } from '../../../../src/protocols/odata/query/index.js';
import { allRows, smallState, typeOf } from './erp-sources.js';

const { state } = smallState();
const rows: Record<string, Row[]> = Object.fromEntries(['Customers', 'SalesOrders', 'Invoices', 'InvoiceLines', 'Products'].map((s) => [s, allRows(state, s)]));
const keyOf = (set: string) => typeOf(set).key[0];

/** the keys of the rows of `set` the filter keeps */
function where(set: string, text: string, dialect: ODataDialect = 'v4'): unknown[] {
  const p = compileFilter(typeOf(set), parseFilter(text, dialect), { dialect });
  return rows[set].filter(p).map((r) => r[keyOf(set)]);
}
const expected = (set: string, f: (r: any) => boolean): unknown[] => rows[set].filter(f).map((r) => r[keyOf(set)]);

function typeError(set: string, text: string, dialect: ODataDialect = 'v4'): QueryTypeError {
  try {
    compileFilter(typeOf(set), parseFilter(text, dialect), { dialect });
  } catch (e) {
    if (e instanceof QueryTypeError) return e;
    throw e;
  }
  throw new Error(`expected a QueryTypeError for ${text}`);
}

/** asserts the filter keeps exactly what `f` keeps, and that the check is not vacuous unless `empty` */
function same(set: string, text: string, f: (r: any) => boolean, dialect: ODataDialect = 'v4', allowTrivial = false): void {
  const want = expected(set, f);
  expect(where(set, text, dialect), text).toEqual(want);
  if (!allowTrivial) {
    expect(want.length, `${text} keeps something`).toBeGreaterThan(0);
    expect(want.length, `${text} drops something`).toBeLessThan(rows[set].length);
  }
}

describe('comparison operators', () => {
  const c0 = rows.Customers[7] as Record<string, any>;
  const day = rows.SalesOrders[100].OrderDate as string;
  test.each([
    ['eq', (a: number, b: number) => a === b],
    ['ne', (a: number, b: number) => a !== b],
    ['gt', (a: number, b: number) => a > b],
    ['ge', (a: number, b: number) => a >= b],
    ['lt', (a: number, b: number) => a < b],
    ['le', (a: number, b: number) => a <= b],
  ])('%s on numbers (Int32, Decimal), strings, dates and instants, either side', (op, f) => {
    same('InvoiceLines', `Quantity ${op} 12`, (r) => f(r.Quantity, 12));
    same('InvoiceLines', `12 ${op} Quantity`, (r) => f(12, r.Quantity));
    same('InvoiceLines', `NetAmount ${op} 1055.89`, (r) => f(r.NetAmount, 1055.89));
    same('Customers', `Name ${op} '${c0.Name}'`, (r) => f(r.Name < c0.Name ? -1 : r.Name > c0.Name ? 1 : 0, 0));
    same('SalesOrders', `OrderDate ${op} ${day}`, (r) => f(Date.parse(r.OrderDate), Date.parse(day)));
    same('Customers', `ChangedAt ${op} ${c0.ChangedAt}`, (r) => f(Date.parse(r.ChangedAt), Date.parse(c0.ChangedAt as string)));
    same('Invoices', `DueDate ${op} InvoiceDate`, (r) => f(Date.parse(r.DueDate), Date.parse(r.InvoiceDate)), 'v4', true);
  });

  test('numbers: Int32 property with Int64/Decimal/Double literals; v2 suffixes', () => {
    same('InvoiceLines', 'Quantity gt 12.5', (r) => r.Quantity > 12.5);
    same('InvoiceLines', 'Quantity le 1.2e1', (r) => r.Quantity <= 12);
    same('InvoiceLines', 'Quantity eq 3000000000', () => false, 'v4', true);
    same('InvoiceLines', 'Quantity lt 12L', (r) => r.Quantity < 12, 'v2');
    same('InvoiceLines', 'UnitPrice ge 100.5M', (r) => r.UnitPrice >= 100.5, 'v2');
    same('InvoiceLines', 'UnitPrice ge 100.5d', (r) => r.UnitPrice >= 100.5, 'v2');
    same('InvoiceLines', 'Quantity eq NaN', () => false, 'v4', true);
    same('InvoiceLines', 'Quantity ne NaN', () => true, 'v4', true);
    same('InvoiceLines', 'Quantity lt INF', () => true, 'v4', true);
  });

  test('booleans', () => {
    const { state: s } = smallState();
    s.updateCustomer('0001000003', { blocked: true });
    const p = compileFilter(typeOf('Customers'), parseFilter('Blocked eq true', 'v4'));
    const blocked = allRows(s, 'Customers').filter(p).map((r) => r.CustomerId);
    expect(blocked).toContain('0001000003');
    expect(allRows(s, 'Customers').filter(compileFilter(typeOf('Customers'), parseFilter('Blocked', 'v4'))).map((r) => r.CustomerId)).toEqual(blocked);
    expect(allRows(s, 'Customers').filter(compileFilter(typeOf('Customers'), parseFilter('not Blocked', 'v4'))).length).toBe(50 - blocked.length);
    expect(where('Customers', 'Blocked gt false')).toEqual(expected('Customers', (r) => r.Blocked === true));
    expect(where('Customers', 'true')).toHaveLength(50);
    expect(where('Customers', 'false')).toHaveLength(0);
    expect(where('Customers', '1 eq 1 and 2 gt 1')).toHaveLength(50);
  });

  test('strings compare ordinally and case-sensitively', () => {
    same('Customers', "Country eq 'DE'", (r) => r.Country === 'DE');
    same('Customers', "Country eq 'de'", () => false, 'v4', true);
    same('Customers', "Name ge 'a'", (r) => r.Name >= 'a', 'v4', true); // lower case sorts after every capital
    same('Customers', "Name lt 'M'", (r) => r.Name < 'M');
  });

  test("'' escapes a quote", () => {
    const { state: s } = smallState();
    s.createCustomer({ externalId: 'Q1', name: "O'Brien Supplies", email: null, city: null, country: 'IE', currencyCode: 'EUR', creditLimitCents: null, blocked: false });
    const p = compileFilter(typeOf('Customers'), parseFilter("Name eq 'O''Brien Supplies'", 'v4'));
    expect(allRows(s, 'Customers').filter(p).map((r) => r.Name)).toEqual(["O'Brien Supplies"]);
  });
});

describe('null', () => {
  test('eq null / ne null test for null, on either side', () => {
    same('Customers', 'CreditLimit eq null', (r) => r.CreditLimit === null);
    same('Customers', 'null eq CreditLimit', (r) => r.CreditLimit === null);
    same('Customers', 'CreditLimit ne null', (r) => r.CreditLimit !== null);
    same('SalesOrders', 'RequestedDeliveryDate eq null', (r) => r.RequestedDeliveryDate === null);
    same('Customers', 'null eq null', () => true, 'v4', true);
  });

  test('every other comparison with null is false, including with a null property', () => {
    for (const op of ['gt', 'ge', 'lt', 'le']) {
      same('Customers', `CreditLimit ${op} null`, () => false, 'v4', true);
      same('Customers', `null ${op} CreditLimit`, () => false, 'v4', true);
    }
    same('Customers', 'CreditLimit lt 1000000000', (r) => r.CreditLimit !== null && r.CreditLimit < 1e9);
    // a comparison with null IS false (OData 4.01 Part 2 §5.1.1.1: "returns false"), so its negation is true
    same('Customers', 'not (CreditLimit lt 1000000000)', (r) => r.CreditLimit === null);
    same('Customers', 'CreditLimit ne 280000', (r) => r.CreditLimit !== 280000);
  });

  test('functions of null are null; and/or/not are three-valued', () => {
    same('Customers', 'length(Email) eq null', (r) => r.Email === null);
    same('Customers', "contains(Email,'ironbridge') eq false", (r) => r.Email !== null && !r.Email.includes('ironbridge'));
    same('Customers', "not contains(Email,'ironbridge')", (r) => r.Email !== null && !r.Email.includes('ironbridge'));
    // unknown or true = true; unknown and false = false
    same('Customers', "contains(Email,'ironbridge') or Country eq 'DE'", (r) => (r.Email?.includes('ironbridge') ?? false) || r.Country === 'DE');
    same('Customers', "not (contains(Email,'x') and false)", () => true, 'v4', true);
    same('Customers', 'year(null) eq null', () => true, 'v4', true);
  });
});

describe('string functions', () => {
  test('contains / startswith / endswith are case-sensitive (v4)', () => {
    same('Customers', "contains(Name,'Trading')", (r) => r.Name.includes('Trading'));
    same('Customers', "contains(Name,'trading')", (r) => r.Name.includes('trading'), 'v4', true);
    same('Customers', "startswith(Name,'C')", (r) => r.Name.startsWith('C'));
    same('Customers', "endswith(Name,'GmbH')", (r) => r.Name.endsWith('GmbH'));
    same('Customers', "contains(Name,'')", () => true, 'v4', true);
  });

  test('substringof takes its arguments the other way round (v2)', () => {
    same('Customers', "substringof('Trading',Name)", (r) => r.Name.includes('Trading'), 'v2');
    same('Customers', "substringof('Trading',Name) eq true", (r) => r.Name.includes('Trading'), 'v2');
    same('Customers', "startswith(Name,'C') eq true", (r) => r.Name.startsWith('C'), 'v2');
    same('Customers', "substringof(Country,'DE ES')", (r) => 'DE ES'.includes(r.Country), 'v2');
  });

  test('tolower / toupper / trim / length, nested', () => {
    same('Customers', "tolower(Name) eq tolower('CRESCENT TRADING S.A.')", (r) => r.Name.toLowerCase() === 'crescent trading s.a.');
    same('Customers', "contains(toupper(Name),'TRADING')", (r) => r.Name.toUpperCase().includes('TRADING'));
    same('Customers', 'length(Name) gt 25', (r) => r.Name.length > 25);
    same('Customers', 'length(Country) eq 2', () => true, 'v4', true);
    same('Customers', "trim(' DE ') eq Country", (r) => r.Country === 'DE');
    same('Customers', "length(trim(Name)) eq length(Name)", () => true, 'v4', true);
  });

  test('length counts characters, not UTF-16 units', () => {
    const { state: s } = smallState();
    s.createCustomer({ externalId: 'U1', name: 'Zürich 🚚 AG', email: null, city: null, country: 'CH', currencyCode: 'EUR', creditLimitCents: null, blocked: false });
    const p = compileFilter(typeOf('Customers'), parseFilter('length(Name) eq 11', 'v4'));
    expect(allRows(s, 'Customers').filter(p).map((r) => r.Name)).toEqual(['Zürich 🚚 AG']);
  });
});

describe('date functions and date/time literals', () => {
  test('year / month / day on Edm.Date and Edm.DateTimeOffset', () => {
    same('SalesOrders', 'year(OrderDate) eq 2024', (r) => r.OrderDate.startsWith('2024-'));
    same('SalesOrders', 'month(OrderDate) eq 2 and day(OrderDate) le 10', (r) => Number(r.OrderDate.slice(5, 7)) === 2 && Number(r.OrderDate.slice(8)) <= 10);
    same('Customers', 'year(CreatedAt) ge 2023', (r) => Number(r.CreatedAt.slice(0, 4)) >= 2023);
    same('Customers', 'year(2024-05-06T23:30:00-02:00) eq 2024 and day(2024-05-06T23:30:00-02:00) eq 6', () => true, 'v4', true);
  });

  test('v4: a Date property against a date-time, a DateTimeOffset against a date (midnight UTC), offsets honoured', () => {
    same('SalesOrders', 'OrderDate ge 2024-06-01T00:00:00Z', (r) => r.OrderDate >= '2024-06-01');
    same('SalesOrders', 'OrderDate gt 2024-06-01T00:00:01Z', (r) => r.OrderDate > '2024-06-01');
    same('Customers', 'CreatedAt lt 2023-01-01', (r) => r.CreatedAt < '2023-01-01');
    const c = rows.Customers[1];
    // 2021-01-31T04:48:00Z written in +02:00
    same('Customers', 'CreatedAt eq 2021-01-31T06:48:00+02:00', (r) => r.CreatedAt === c.CreatedAt);
    same('Customers', 'CreatedAt eq 2021-01-31T04:48:00.0000000Z', (r) => r.CreatedAt === c.CreatedAt);
    same('Customers', 'CreatedAt eq 2021-01-31T04:48Z', (r) => r.CreatedAt === c.CreatedAt);
    same('Customers', 'CreatedAt lt 2021-01-31T04:48:00.0001Z and CreatedAt gt 2021-01-31T04:47:59.9999Z', (r) => r.CreatedAt === c.CreatedAt);
  });

  test("v2: datetime'…' (read as UTC) and datetimeoffset'…' against DateTimeOffset and Date properties", () => {
    const c = rows.Customers[1];
    same('Customers', "CreatedAt eq datetime'2021-01-31T04:48:00'", (r) => r.CreatedAt === c.CreatedAt, 'v2');
    same('Customers', "CreatedAt ge datetimeoffset'2023-01-01T01:00:00+01:00'", (r) => r.CreatedAt >= '2023-01-01', 'v2');
    same('SalesOrders', "OrderDate eq datetime'2024-01-02T00:00:00'", (r) => r.OrderDate === '2024-01-02', 'v2');
    same('SalesOrders', "OrderDate ge datetime'2024-06-01T00:00'", (r) => r.OrderDate >= '2024-06-01', 'v2');
    same('SalesOrders', "year(OrderDate) eq 2024", (r) => r.OrderDate.startsWith('2024-'), 'v2');
  });
});

describe('the Salesforce request shapes of SALESFORCE.md §3', () => {
  /** the $filter of a request line as Salesforce sends it, evaluated on Customers */
  function sf(url: string, dialect: ODataDialect): unknown[] {
    const q = parseQueryString(url.slice(url.indexOf('?') + 1), dialect);
    const p = compileFilter(typeOf('Customers'), q.filter!, { dialect });
    return rows.Customers.filter(p).map((r) => r.CustomerId);
  }
  const acme = (r: any) => r.Name.includes('Trading') || (r.Email ?? '').includes('Trading');

  test('v4 search default: contains(…) eq true or contains(…) eq true', () => {
    const got = sf("GET …/Customers?$select=Name,Email,CustomerId&$count=true&$filter=contains(Name,'Trading') eq true or contains(Email,'Trading') eq true&$top=25", 'v4');
    expect(got).toEqual(expected('Customers', acme));
    expect(got.length).toBeGreaterThan(0);
  });

  test('v2 search default: substringof(…)+eq+true+or+…', () => {
    const got = sf("GET …/Customers?$select=Name,Email,CustomerId&$inlinecount=allpages&$filter=substringof('Trading',Name)+eq+true+or+substringof('Trading',Email)+eq+true&$top=25", 'v2');
    expect(got).toEqual(expected('Customers', acme));
  });

  test("SOQL WHERE Country__c='DE' and the EventLogFile's key equality", () => {
    expect(sf("GET …/Customers?$filter=Country eq 'DE'&$orderby=City asc&$top=26", 'v4')).toEqual(expected('Customers', (r) => r.Country === 'DE'));
    expect(sf("GET …/Customers?$filter=CustomerId eq '0001000012'", 'v4')).toEqual(['0001000012']);
    expect(sf("GET …/Customers?$filter=CustomerId eq '0001000012'", 'v2')).toEqual(['0001000012']);
  });
});

describe('type errors name the culprit, say what was expected, and point at it', () => {
  test.each([
    ['Customers', 'Name eq 5', 8, /cannot compare Name \(Edm\.String\) with 5 \(Edm\.Int32\) using eq: expected Edm\.String, e\.g\. a string in single quotes/],
    ['Customers', '5 eq Name', 0, /cannot compare Name \(Edm\.String\) with 5 \(Edm\.Int32\)/],
    ['InvoiceLines', "Quantity eq '5'", 12, /cannot compare Quantity \(Edm\.Int32\) with '5' \(Edm\.String\) using eq: expected a number/],
    ['InvoiceLines', "contains(Quantity,'x')", 9, /contains needs Edm\.String as its first argument, but Quantity is Edm\.Int32/],
    ['Customers', 'contains(Name,5)', 14, /contains needs Edm\.String as its second argument, but 5 is Edm\.Int32/],
    ['Customers', 'year(Name) eq 2020', 5, /year needs an Edm\.Date or Edm\.DateTimeOffset as its argument, but Name is Edm\.String/],
    ['Customers', 'length(CreditLimit) gt 2', 7, /length needs Edm\.String as its argument, but CreditLimit is Edm\.Decimal/],
    ['SalesOrders', "OrderDate eq '2024-01-02'", 13, /expected Edm\.Date or Edm\.DateTimeOffset, e\.g\. an unquoted date \(2026-01-05\)/],
    ['Customers', 'Blocked eq 1', 11, /cannot compare Blocked \(Edm\.Boolean\) with 1 \(Edm\.Int32\) using eq: expected Edm\.Boolean, e\.g\. true or false/],
    ['Customers', 'Name', 0, /\$filter must be a Boolean expression, but Name is Edm\.String/],
    ['Customers', "tolower(Name)", 0, /must be a Boolean expression, but tolower\(Name\) is Edm\.String/],
    ['Customers', "Name and Blocked", 0, /'and' needs a Boolean operand, but Name is Edm\.String/],
    ['Customers', "not Country", 4, /'not' needs a Boolean operand, but Country is Edm\.String/],
    ['Customers', "Name eq Blocked", 8, /cannot compare Name \(Edm\.String\) with Blocked \(Edm\.Boolean\)/],
    ['Customers', "contains(Name,'a') eq 'true'", 22, /cannot compare contains\(Name,'a'\) \(Edm\.Boolean\) with 'true' \(Edm\.String\)/],
  ])('%s: %s', (set, text, pos, message) => {
    const e = typeError(set, text);
    expect(e.message).toMatch(message);
    expect(e.option).toBe('$filter');
    expect(e.position).toBe(pos);
    expect(e.message).toMatch(new RegExp(`\\(at ${pos}\\)$`));
  });

  test('v2 hints name the v2 literal forms', () => {
    expect(typeError('SalesOrders', "OrderDate eq '2024-01-02'", 'v2').message).toMatch(/datetime'2026-01-05T00:00:00'/);
  });

  test('unknown properties are named with the near names (or all of them)', () => {
    const e = typeError('Customers', "Nme eq 'x'");
    expect(e.message).toMatch(/Customer has no property 'Nme' \(names are case-sensitive\); did you mean Name\?/);
    expect(e.position).toBe(0);
    expect(typeError('Customers', "name eq 'x'").message).toMatch(/did you mean Name\?/);
    expect(typeError('Customers', "Blocked and customerid eq 'x'").message).toMatch(/'customerid'.*did you mean CustomerId\?/);
    expect(typeError('Customers', "Blocked and customerid eq 'x'").position).toBe(12);
    expect(typeError('Customers', 'Zzzzzzzz eq 1').message).toMatch(/its properties are CustomerId, ExternalId, Name, Email, City/);
    expect(typeError('SalesOrders', 'Customer eq null').message).toMatch(/Customer is a navigation property of SalesOrder; only its primitive properties/);
  });

  test('a date/time outside what can be compared is refused, not mis-compared', () => {
    expect(typeError('Customers', 'CreatedAt gt 99999999-01-01').message).toMatch(/out of the range/);
  });
});
