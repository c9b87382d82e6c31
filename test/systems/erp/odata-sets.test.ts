/**
 * The ERP's OData entity sets (erpODataDefinition), through the handlers and the state — no HTTP: rows as lazy,
 * key-ordered, sized sources (a million InvoiceLines never materialised; scanFrom correct for keys that are no id
 * of this ERP), key lookups, the equality indexes against a full scan filtered by hand, ETags and change tracking,
 * and every write rule, accepted and refused — a refused write changes nothing, and SOAP serves what OData wrote
 * within its WSDL.
 */
import { describe, expect, it } from 'vitest';
import type { Row, RowValue } from '../../../src/protocols/odata/evaluate/values.js';
import type { ODataWriteResult, WriteValues } from '../../../src/protocols/odata/handler.js';
import { loadWsdl } from '../../../src/protocols/soap/wsdl.js';
import { writeContent, type ComplexType, type Problem } from '../../../src/protocols/soap/xsd.js';
import { ERP_DEFAULTS, ERP_FAULT_CODES, ErpState } from '../../../src/systems/erp/index.js';
import { customerRow, erpRowByKey, invoiceLineRow, invoiceRow, loadErpModel, productRow, salesOrderRow, type ErpEntitySetName } from '../../../src/systems/erp/odata-model.js';
import { ERP_ODATA_ERROR_CODES, erpODataDefinition, firstNumberAfter } from '../../../src/systems/erp/odata-sets.js';
import { ManualClock } from '../../../src/util/clock.js';
import { customerWhere, erp, START, WSDL_FILE, type Fixture } from './fixtures.js';

const sets = erpODataDefinition.sets;
const ctx = { client: 'test' };
const patch = { client: 'test', replace: false };
const put = { client: 'test', replace: true };
const KEYS: Record<ErpEntitySetName, string> = { Customers: 'CustomerId', Products: 'ProductId', SalesOrders: 'SalesOrderId', Invoices: 'InvoiceId', InvoiceLines: 'InvoiceLineId' };

/** every row of a set, built by hand from the state's read API, in key order */
function allRows(s: ErpState, set: ErpEntitySetName): Row[] {
  switch (set) {
    case 'Customers':
      return [...s.customers()].map((c) => customerRow(s, c));
    case 'Products':
      return s.products.map(productRow);
    case 'SalesOrders':
      return [...s.salesOrders()].map(salesOrderRow);
    case 'Invoices':
      return Array.from({ length: s.invoiceCount }, (_, i) => invoiceRow(s.invoiceAt(i)));
    case 'InvoiceLines':
      return Array.from({ length: s.invoiceLineCount }, (_, g) => invoiceLineRow(s.invoiceLineAt(g)));
  }
}

function take(rows: Iterable<Row>, n: number): Row[] {
  const out: Row[] = [];
  for (const row of rows) {
    if (out.length === n) break;
    out.push(row);
  }
  return out;
}

/** the row of an accepted write */
function rowOf(result: ODataWriteResult): Row {
  if ('error' in result) throw new Error(`refused: ${JSON.stringify(result.error)}`);
  return result.row;
}

/** a write refused with this status, code (and target), changing nothing at all */
function expectRefused(f: Fixture, write: () => ODataWriteResult | { error: unknown } | { removed: true }, expected: { status: number; code: string; target?: string; message?: RegExp }) {
  const before = JSON.stringify(f.state.overlays());
  const result = write() as { error?: { status: number; code: string; target?: string; message: string } };
  expect(result.error, JSON.stringify(result)).toBeDefined();
  const { message, ...rest } = expected;
  expect(result.error).toMatchObject(rest);
  if (expected.target === undefined) expect(result.error!.target).toBeUndefined();
  if (message) expect(result.error!.message).toMatch(message);
  expect(result.error!.message.length).toBeGreaterThan(10);
  expect(JSON.stringify(f.state.overlays())).toBe(before);
}

const NEW_CUSTOMER: WriteValues = { Name: 'Contoso Ltd', Country: 'GB', CurrencyCode: 'GBP' };
const unlimited = (s: ErpState) => customerWhere(s, (c) => !c.blocked && c.creditLimitCents === null);
const limited = (s: ErpState) => customerWhere(s, (c) => !c.blocked && c.creditLimitCents !== null && c.creditLimitCents - s.openOrderValueCents(c.id) > 200_000);

// ---- the WSDL check through the SOAP engine's own schema code -----------------------------------------------

const wsdl = loadWsdl(WSDL_FILE);
/** what the SOAP engine's writer would complain about in a response body */
function soapProblems(element: string, body: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  writeContent(body, wsdl.elements.get(element)!.type as ComplexType, element, problems);
  return problems;
}

describe('the definition', () => {
  it('has a handler per entity set of the model; writes, ETags and change tracking on Customers and SalesOrders only', () => {
    const model = loadErpModel();
    expect(Object.keys(sets).sort()).toEqual(model.entitySets.map((s) => s.name).sort());
    for (const [name, handler] of Object.entries(sets)) {
      const writable = name === 'Customers' || name === 'SalesOrders';
      for (const method of ['create', 'update', 'remove', 'etag', 'changedKeys'] as const) expect(typeof handler[method], `${name}.${method}`).toBe(writable ? 'function' : 'undefined');
      expect(typeof handler.equal).toBe('function');
    }
    expect(erpODataDefinition).toMatchObject({
      name: 'erp',
      keys: { SalesOrders: 'ExternalOrderNumber', Customers: 'ExternalId' },
      readOnly: { Customers: ['CustomerId', 'OpenOrderValue', 'CreatedAt', 'ChangedAt'], SalesOrders: ['SalesOrderId', 'LineCount', 'InvoiceId', 'CreatedAt', 'ChangedAt'] },
    });
    // every read-only property is one of the model's
    for (const [set, names] of Object.entries(erpODataDefinition.readOnly!)) for (const n of names) expect(model.entitySet(set)!.entityType.property(n), `${set}.${n}`).toBeDefined();
  });

  it('the position is the revision', () => {
    const f = erp();
    expect(erpODataDefinition.position!(f.state)).toBe(0);
    rowOf(sets.Customers.create!(f.state, NEW_CUSTOMER, ctx));
    expect(erpODataDefinition.position!(f.state)).toBe(1);
  });

  it('OData-only codes are not among the SOAP fault codes', () => {
    for (const code of ERP_ODATA_ERROR_CODES) expect(ERP_FAULT_CODES as readonly string[]).not.toContain(code);
  });
});

describe('rows', () => {
  const f = erp();
  const s = f.state;
  const names = Object.keys(KEYS) as ErpEntitySetName[];

  it.each(names)('%s: every row, in ascending key order, and size() says how many', (set) => {
    const source = sets[set].rows(s);
    const rows = [...source];
    expect(rows).toEqual(allRows(s, set));
    expect(source.size!()).toBe(rows.length);
    const keys = rows.map((r) => r[KEYS[set]] as string | number);
    for (let i = 1; i < keys.length; i++) expect(keys[i] > keys[i - 1], `${set}: ${keys[i - 1]} < ${keys[i]}`).toBe(true);
  });

  it.each(names)('%s: scanFrom(key) gives exactly the rows whose key sorts after it, for any key', (set) => {
    const all = allRows(s, set);
    const keyOf = (r: Row) => r[KEYS[set]] as string | number;
    const probes: RowValue[] =
      set === 'InvoiceLines'
        ? [0, 1, 2.5, 49, 50, 12_345, SMALL_LINES - 1, SMALL_LINES, SMALL_LINES + 7, -3]
        : [...[0, 1, 17, all.length - 2, all.length - 1].map((i) => keyOf(all[i])), '', '0', '0001000005x', '00010000050', '000100000', '0090000200 ', 'A', 'MAT-000100a', 'MAT-', 'zzz', '9999999999', '~'];
    const source = sets[set].rows(s);
    expect([...source.scanFrom!(undefined)]).toEqual(all);
    for (const key of probes) {
      const expected = all.filter((r) => keyOf(r) > (key as string | number));
      // only the first rows: a real client reads a page
      expect(take(source.scanFrom!(key), 30), `${set} after ${JSON.stringify(key)}`).toEqual(expected.slice(0, 30));
    }
  });

  it('firstNumberAfter: the first fixed-width id sorting after any string', () => {
    expect(firstNumberAfter(undefined)).toBe(0);
    expect(firstNumberAfter('')).toBe(0);
    expect(firstNumberAfter('0001000005')).toBe(1_000_006);
    expect(firstNumberAfter('0001000005x')).toBe(1_000_006);
    expect(firstNumberAfter('000100000')).toBe(1_000_000);
    expect(firstNumberAfter('9999999999')).toBe(10_000_000_000);
    expect(firstNumberAfter('A')).toBe(10_000_000_000);
  });

  it('skips deleted customers and orders, and counts live ones', () => {
    const w = erp({ customers: 120, invoices: 60, invoiceLines: 600 });
    const id = customerWhere(w.state, (c) => w.state.customerInvoiceIndexes(c.id).length === 0);
    const order = rowOf(sets.SalesOrders.create!(w.state, { CustomerId: unlimited(w.state), NetAmount: 10 }, ctx));
    w.state.deleteCustomer(id);
    w.state.deleteSalesOrder(order.SalesOrderId as string);
    for (const set of ['Customers', 'SalesOrders'] as const) {
      const source = sets[set].rows(w.state);
      expect([...source]).toEqual(allRows(w.state, set));
      expect(source.size!()).toBe(allRows(w.state, set).length);
    }
    expect([...sets.Customers.rows(w.state)].map((r) => r.CustomerId)).not.toContain(id);
    expect(take(sets.Customers.rows(w.state).scanFrom!(String(Number(id) - 1).padStart(10, '0')), 1)[0].CustomerId).toBe(String(Number(id) + 1).padStart(10, '0'));
  });
});

const SMALL_LINES = 20_000;

describe('a million InvoiceLines, read lazily', () => {
  const s = new ErpState({ seed: 42, clock: new ManualClock(START), ...ERP_DEFAULTS });
  const lines = sets.InvoiceLines;

  it('size() and keyset scans anywhere in the set', () => {
    const source = lines.rows(s);
    expect(source.size!()).toBe(1_000_000);
    expect(take(source, 3).map((r) => r.InvoiceLineId)).toEqual([1, 2, 3]);
    const middle = take(source.scanFrom!(500_000), 5);
    expect(middle.map((r) => r.InvoiceLineId)).toEqual([500_001, 500_002, 500_003, 500_004, 500_005]);
    expect(middle[0]).toEqual(lines.byKey(s, 500_001));
    expect(middle[0]).toEqual(invoiceLineRow(s.invoiceLineAt(500_000)));
    const tail = [...source.scanFrom!(999_990)];
    expect(tail.map((r) => r.InvoiceLineId)).toEqual(Array.from({ length: 10 }, (_, k) => 999_991 + k));
    expect(tail[9]).toMatchObject({ InvoiceId: '0090010000', LineNumber: 1000 });
    expect([...source.scanFrom!(1_000_000)]).toEqual([]);
    expect([...source.scanFrom!(5_000_000)]).toEqual([]);
  });

  it('an invoice\'s lines and a line by id through the index, without a scan', () => {
    const invoice = s.invoice('0090005000')!;
    const rows = [...lines.equal!(s, 'InvoiceId', '0090005000')!];
    expect(rows).toHaveLength(invoice.lineCount);
    expect(rows.map((r) => r.InvoiceLineId)).toEqual(Array.from({ length: invoice.lineCount }, (_, k) => invoice.lineStart + k + 1));
    expect(rows.every((r) => r.InvoiceId === '0090005000')).toBe(true);
    expect([...lines.equal!(s, 'InvoiceLineId', 777_777)!]).toEqual([lines.byKey(s, 777_777)]);
  });
});

describe('byKey', () => {
  const f = erp();
  const s = f.state;

  it('finds a row by its key as erpRowByKey does; anything else is absent', () => {
    for (const set of Object.keys(KEYS) as ErpEntitySetName[]) {
      const row = allRows(s, set)[7];
      const key = row[KEYS[set]] as string | number;
      expect(sets[set].byKey(s, key)).toEqual(row);
      expect(sets[set].byKey(s, key)).toEqual(erpRowByKey(s, set, key));
      // the wrong type, null, true, and no such key
      expect(sets[set].byKey(s, typeof key === 'string' ? 7 : String(key))).toBeUndefined();
      expect(sets[set].byKey(s, null)).toBeUndefined();
      expect(sets[set].byKey(s, true)).toBeUndefined();
      expect(sets[set].byKey(s, typeof key === 'string' ? `${key}0` : 10_000_000)).toBeUndefined();
    }
  });

  it('a deleted customer or order is absent', () => {
    const w = erp();
    const customer = rowOf(sets.Customers.create!(w.state, NEW_CUSTOMER, ctx)).CustomerId as string;
    expect(sets.Customers.remove!(w.state, customer, ctx)).toMatchObject({ removed: true });
    expect(sets.Customers.byKey(w.state, customer)).toBeUndefined();
    const order = rowOf(sets.SalesOrders.create!(w.state, { CustomerId: unlimited(w.state), NetAmount: 1 }, ctx)).SalesOrderId as string;
    sets.SalesOrders.remove!(w.state, order, ctx);
    expect(sets.SalesOrders.byKey(w.state, order)).toBeUndefined();
  });
});

describe('equality indexes agree with a full scan filtered by hand', () => {
  const f = erp();
  const s = f.state;
  const soapOrder = f.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-IDX', CustomerId: unlimited(s), Line: [{ ProductId: 'MAT-000001', Quantity: 1 }] }).body.SalesOrder.SalesOrderId;
  const lineCount = (i: number) => s.invoiceAt(i).lineCount;

  const cases: Array<[ErpEntitySetName, string, RowValue]> = [
    ['InvoiceLines', 'InvoiceId', '0090000001'],
    ['InvoiceLines', 'InvoiceId', '0090000200'],
    ['InvoiceLines', 'InvoiceId', '0090000400'],
    ['InvoiceLines', 'InvoiceId', '0090000401'],
    ['InvoiceLines', 'InvoiceId', 'nope'],
    ['InvoiceLines', 'InvoiceLineId', 1],
    ['InvoiceLines', 'InvoiceLineId', 12_345],
    ['InvoiceLines', 'InvoiceLineId', SMALL_LINES + 1],
    ['Invoices', 'InvoiceId', '0090000123'],
    ['Invoices', 'InvoiceId', '0090000000'],
    ['Invoices', 'CustomerId', '0001000000'],
    ['Invoices', 'CustomerId', '0001000033'],
    ['Invoices', 'CustomerId', '0001000059'],
    ['Invoices', 'CustomerId', '0009999999'],
    ['Customers', 'CustomerId', '0001000010'],
    ['Customers', 'CustomerId', '0001000060'],
    ['Customers', 'ExternalId', 'LEGACY-000002'],
    ['Customers', 'ExternalId', 'LEGACY-999999'],
    ['SalesOrders', 'SalesOrderId', '0070000005'],
    ['SalesOrders', 'SalesOrderId', soapOrder],
    ['SalesOrders', 'SalesOrderId', '0079999999'],
    ['SalesOrders', 'ExternalOrderNumber', 'SO-IDX'],
    ['SalesOrders', 'ExternalOrderNumber', 'SO-NONE'],
    ['SalesOrders', 'CustomerId', '0001000000'],
    ['SalesOrders', 'CustomerId', unlimited(s)],
    ['SalesOrders', 'CustomerId', '0001000059'],
    ['SalesOrders', 'CustomerId', '0009999999'],
    ['Products', 'ProductId', 'MAT-000042'],
    ['Products', 'ProductId', 'MAT-000251'],
  ];

  it.each(cases)('%s %s eq %j', (set, property, value) => {
    const candidates = sets[set].equal!(s, property, value);
    expect(candidates, 'indexed').toBeDefined();
    expect([...candidates!]).toEqual(allRows(s, set).filter((r) => r[property] === value));
  });

  it('finds something for most of those (the comparison is not vacuous)', () => {
    expect([...sets.InvoiceLines.equal!(s, 'InvoiceId', '0090000200')!]).toHaveLength(lineCount(199));
    expect([...sets.Invoices.equal!(s, 'CustomerId', '0001000033')!].length).toBe(s.customerInvoiceIndexes('0001000033').length);
    expect([...sets.Customers.equal!(s, 'ExternalId', 'LEGACY-000002')!]).toHaveLength(1);
    // a customer with seeded orders and a created one: both kinds, in key order
    expect([...sets.SalesOrders.equal!(s, 'CustomerId', unlimited(s))!].map((r) => r.LineCount !== 0 && r.OrderStatus)).toContain('OPEN');
    expect([...sets.SalesOrders.equal!(s, 'CustomerId', unlimited(s))!].map((r) => r.OrderStatus)).toContain('INVOICED');
  });

  it("a customer's sales orders: seeded, created over SOAP and OData, cancelled — not deleted ones — in key order", () => {
    const w = erp();
    const c = customerWhere(w.state, (x) => !x.blocked && x.creditLimitCents === null && w.state.customerInvoiceIndexes(x.id).length > 1);
    const made = [1, 2, 3, 4].map((k) => rowOf(sets.SalesOrders.create!(w.state, { CustomerId: c, NetAmount: k }, ctx)).SalesOrderId as string);
    w.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-C', CustomerId: c, Line: [{ ProductId: 'MAT-000001', Quantity: 1 }] });
    rowOf(sets.Customers.create!(w.state, NEW_CUSTOMER, ctx));
    rowOf(sets.SalesOrders.create!(w.state, { CustomerId: unlimited(w.state) === c ? '0001000000' : unlimited(w.state), NetAmount: 9 }, ctx));
    sets.SalesOrders.remove!(w.state, made[1], ctx);
    rowOf(sets.SalesOrders.update!(w.state, made[2], { OrderStatus: 'CANCELLED' }, patch));
    const indexed = [...sets.SalesOrders.equal!(w.state, 'CustomerId', c)!];
    expect(indexed).toEqual(allRows(w.state, 'SalesOrders').filter((r) => r.CustomerId === c));
    expect(indexed.map((r) => r.OrderStatus)).toEqual([...Array(w.state.customerInvoiceIndexes(c).length).fill('INVOICED'), 'OPEN', 'CANCELLED', 'OPEN', 'OPEN']);
    expect(w.state.customerDocuments(c).salesOrders).toBe(indexed.length);
  });

  it('is undefined (not indexed) for other properties, null and values of another type', () => {
    expect(sets.Customers.equal!(s, 'City', 'London')).toBeUndefined();
    expect(sets.Customers.equal!(s, 'ExternalId', null)).toBeUndefined();
    expect(sets.SalesOrders.equal!(s, 'CustomerId', null)).toBeUndefined();
    expect(sets.SalesOrders.equal!(s, 'OrderStatus', 'OPEN')).toBeUndefined();
    expect(sets.SalesOrders.equal!(s, 'ExternalOrderNumber', null)).toBeUndefined();
    expect(sets.InvoiceLines.equal!(s, 'ProductId', 'MAT-000001')).toBeUndefined();
    expect(sets.InvoiceLines.equal!(s, 'InvoiceLineId', '5')).toBeUndefined();
    expect(sets.Invoices.equal!(s, 'InvoiceStatus', 'OPEN')).toBeUndefined();
    expect(sets.Products.equal!(s, 'Description', 'x')).toBeUndefined();
  });
});

describe('ETags and change tracking', () => {
  it('a customer\'s ETag is its version: a write, and an order moving its open value, change it', () => {
    const f = erp();
    const c = unlimited(f.state);
    const etag = () => sets.Customers.etag!(f.state, sets.Customers.byKey(f.state, c)!);
    expect(etag()).toBe('1');
    rowOf(sets.Customers.update!(f.state, c, { City: 'Leeds' }, patch));
    expect(etag()).toBe('2');
    const order = rowOf(sets.SalesOrders.create!(f.state, { CustomerId: c, NetAmount: 99.5 }, ctx));
    expect(etag()).toBe('3');
    expect(sets.Customers.byKey(f.state, c)!.OpenOrderValue).toBe(99.5);
    expect(sets.SalesOrders.etag!(f.state, order)).toBe('1');
    rowOf(sets.SalesOrders.update!(f.state, order.SalesOrderId, { RequestedDeliveryDate: '2026-04-01' }, patch));
    expect(sets.SalesOrders.etag!(f.state, sets.SalesOrders.byKey(f.state, order.SalesOrderId)!)).toBe('2');
    expect(etag()).toBe('3');
  });

  it('changedKeys: what the writes after `from` up to `to` touched, deletes included', () => {
    const f = erp();
    const c = unlimited(f.state);
    const created = rowOf(sets.Customers.create!(f.state, NEW_CUSTOMER, ctx)).CustomerId as string; // 1
    const order = rowOf(sets.SalesOrders.create!(f.state, { CustomerId: c, NetAmount: 5 }, ctx)).SalesOrderId as string; // 2
    sets.Customers.remove!(f.state, created, ctx); // 3
    sets.SalesOrders.remove!(f.state, order, ctx); // 4
    expect(sets.Customers.changedKeys!(f.state, 0, 4)).toEqual([c, created].sort());
    expect(sets.Customers.changedKeys!(f.state, 2, 3)).toEqual([created]);
    expect(sets.SalesOrders.changedKeys!(f.state, 0, 4)).toEqual([order]);
    expect(sets.SalesOrders.changedKeys!(f.state, 3, 4)).toEqual([order]);
    expect(sets.SalesOrders.changedKeys!(f.state, 4, 4)).toEqual([]);
    // the removed ones are no longer found: the engine reports them as removed
    expect(sets.Customers.byKey(f.state, created)).toBeUndefined();
  });
});

describe('Customers writes', () => {
  it('create: a customer as UpsertCustomer would make it (Blocked false, CreditLimit in cents), served by SOAP within its WSDL', () => {
    const f = erp();
    f.clock.advance(90_000);
    const result = sets.Customers.create!(f.state, { ...NEW_CUSTOMER, ExternalId: 'SF-C1', Email: 'ap@contoso.example', CreditLimit: 12_500.5 }, ctx);
    const row = rowOf(result);
    expect(result).toMatchObject({ effects: [{ entity: 'Customer', id: row.CustomerId, action: 'created' }] });
    expect('changedState' in result).toBe(false);
    expect(row).toEqual({
      CustomerId: '0001000060',
      ExternalId: 'SF-C1',
      Name: 'Contoso Ltd',
      Email: 'ap@contoso.example',
      City: null,
      Country: 'GB',
      CurrencyCode: 'GBP',
      CreditLimit: 12_500.5,
      OpenOrderValue: 0,
      Blocked: false,
      CreatedAt: new Date(START + 90_000).toISOString(),
      ChangedAt: new Date(START + 90_000).toISOString(),
    });
    expect(f.state.customer('0001000060')!.creditLimitCents).toBe(1_250_050);
    expect(sets.Customers.byKey(f.state, '0001000060')).toEqual(row);
    const soap = f.call('GetCustomer', { CustomerId: '0001000060' });
    expect(soap.body.Customer).toEqual(row);
    // SOAP's UpsertCustomer reaches it by its external id
    expect(f.call('UpsertCustomer', { ExternalId: 'SF-C1', City: 'York' }).body).toMatchObject({ Created: false, Customer: { CustomerId: '0001000060', City: 'York' } });
    // without an external id, and blocked from the start
    expect(rowOf(sets.Customers.create!(f.state, { ...NEW_CUSTOMER, Blocked: true }, ctx))).toMatchObject({ ExternalId: null, Blocked: true, CustomerId: '0001000061' });
  });

  it('create refusals: required fields, the WSDL\'s restrictions, a taken external id — nothing written', () => {
    const f = erp();
    const create = (values: WriteValues) => () => sets.Customers.create!(f.state, values, ctx);
    expectRefused(f, create({ Name: 'X' }), { status: 400, code: 'REQUIRED_FIELD_MISSING', target: 'Country', message: /Country, CurrencyCode/ });
    expectRefused(f, create({ Country: 'DE', CurrencyCode: 'EUR', Name: null }), { status: 400, code: 'REQUIRED_FIELD_MISSING', target: 'Name' });
    expectRefused(f, create({ ...NEW_CUSTOMER, Country: 'de' }), { status: 400, code: 'INVALID_VALUE', target: 'Country', message: /Country must match the pattern \[A-Z\]\{2\}/ });
    expectRefused(f, create({ ...NEW_CUSTOMER, Country: 'GBR' }), { status: 400, code: 'INVALID_VALUE', target: 'Country' });
    expectRefused(f, create({ ...NEW_CUSTOMER, CurrencyCode: 'CHF' }), { status: 400, code: 'INVALID_VALUE', target: 'CurrencyCode', message: /one of EUR, USD, GBP/ });
    expectRefused(f, create({ ...NEW_CUSTOMER, Name: '' }), { status: 400, code: 'INVALID_VALUE', target: 'Name', message: /Name may not be empty/ });
    expectRefused(f, create({ ...NEW_CUSTOMER, ExternalId: '' }), { status: 400, code: 'INVALID_VALUE', target: 'ExternalId' });
    expectRefused(f, create({ ...NEW_CUSTOMER, Email: `${'a'.repeat(115)}@x.example` }), { status: 400, code: 'INVALID_VALUE', target: 'Email', message: /at most 120/ });
    expectRefused(f, create({ ...NEW_CUSTOMER, CreditLimit: -1 }), { status: 400, code: 'INVALID_VALUE', target: 'CreditLimit', message: /at least 0/ });
    // two problems: both named, the first targeted
    expectRefused(f, create({ ...NEW_CUSTOMER, Country: 'x', CurrencyCode: 'x' }), { status: 400, code: 'INVALID_VALUE', target: 'Country', message: /Country .*; CurrencyCode / });
    expectRefused(f, create({ ...NEW_CUSTOMER, ExternalId: 'LEGACY-000002' }), { status: 409, code: 'EXTERNAL_ID_IN_USE', target: 'ExternalId', message: /customer 0001000001/ });
    expect(f.state.customerCount()).toBe(60);
  });

  it('update (PATCH): changes what is sent; the same values again change nothing; the external id is fixed', () => {
    const f = erp();
    const c = customerWhere(f.state, (x) => x.externalId !== null && x.creditLimitCents !== null);
    const before = f.state.customer(c)!;
    f.clock.advance(1000);
    const result = sets.Customers.update!(f.state, c, { City: 'Leeds', CreditLimit: null, Blocked: true, ExternalId: before.externalId }, patch);
    expect(rowOf(result)).toMatchObject({ CustomerId: c, City: 'Leeds', CreditLimit: null, Blocked: true, Name: before.name, ChangedAt: new Date(START + 1000).toISOString() });
    expect(result).toMatchObject({ effects: [{ entity: 'Customer', id: c, action: 'updated' }] });
    expect(f.state.customer(c)!.version).toBe(before.version + 1);

    const state = JSON.stringify(f.state.overlays());
    const again = sets.Customers.update!(f.state, c, { City: 'Leeds', CreditLimit: null, Name: before.name }, patch);
    expect(again).toEqual({ row: sets.Customers.byKey(f.state, c), changedState: false });
    expect(sets.Customers.update!(f.state, c, {}, patch)).toMatchObject({ changedState: false });
    expect(JSON.stringify(f.state.overlays())).toBe(state);

    expectRefused(f, () => sets.Customers.update!(f.state, c, { ExternalId: 'SF-OTHER' }, patch), { status: 400, code: 'EXTERNAL_ID_IMMUTABLE', target: 'ExternalId' });
    expectRefused(f, () => sets.Customers.update!(f.state, c, { ExternalId: null }, patch), { status: 400, code: 'EXTERNAL_ID_IMMUTABLE', target: 'ExternalId' });
    const none = customerWhere(f.state, (x) => x.externalId === null);
    expectRefused(f, () => sets.Customers.update!(f.state, none, { ExternalId: 'SF-LATE' }, patch), { status: 400, code: 'EXTERNAL_ID_IMMUTABLE', target: 'ExternalId', message: /has none/ });
    expectRefused(f, () => sets.Customers.update!(f.state, c, { City: 'Leeds', Country: 'uk' }, patch), { status: 400, code: 'INVALID_VALUE', target: 'Country' });
    expectRefused(f, () => sets.Customers.update!(f.state, '0001009999', { City: 'X' }, patch), { status: 404, code: 'CUSTOMER_NOT_FOUND' });
  });

  it('update (PUT): nullable properties not sent become null; non-nullable ones must be sent', () => {
    const f = erp();
    const c = customerWhere(f.state, (x) => x.externalId !== null && x.email !== null && x.city !== null);
    const cur = f.state.customer(c)!;
    const full = { ExternalId: cur.externalId, Name: 'Renamed', Country: cur.country, CurrencyCode: cur.currencyCode, Blocked: cur.blocked };
    expectRefused(f, () => sets.Customers.update!(f.state, c, { Name: 'Renamed', Country: 'DE', CurrencyCode: 'EUR' }, put), { status: 400, code: 'REQUIRED_FIELD_MISSING', target: 'Blocked' });
    // leaving out the external id would clear it: it cannot change
    const { ExternalId: _, ...withoutExternal } = full;
    expectRefused(f, () => sets.Customers.update!(f.state, c, withoutExternal, put), { status: 400, code: 'EXTERNAL_ID_IMMUTABLE', target: 'ExternalId' });
    const row = rowOf(sets.Customers.update!(f.state, c, full, put));
    expect(row).toMatchObject({ Name: 'Renamed', Email: null, City: null, CreditLimit: null, ExternalId: cur.externalId });
    // the same PUT again changes nothing
    expect(sets.Customers.update!(f.state, c, full, put)).toMatchObject({ changedState: false });
    // and SOAP serves the result within its WSDL
    expect(soapProblems('GetCustomerResponse', f.call('GetCustomer', { CustomerId: c }).body)).toEqual([]);
  });

  it('remove: only a customer without documents; its external id is free again', () => {
    const f = erp();
    const invoiced = customerWhere(f.state, (x) => f.state.customerInvoiceIndexes(x.id).length > 0);
    expectRefused(f, () => sets.Customers.remove!(f.state, invoiced, ctx), { status: 409, code: 'CUSTOMER_HAS_DOCUMENTS', message: /invoice/ });
    const created = rowOf(sets.Customers.create!(f.state, { ...NEW_CUSTOMER, ExternalId: 'SF-GONE' }, ctx)).CustomerId as string;
    const order = rowOf(sets.SalesOrders.create!(f.state, { CustomerId: created, NetAmount: 10 }, ctx)).SalesOrderId;
    rowOf(sets.SalesOrders.update!(f.state, order, { OrderStatus: 'CANCELLED' }, patch));
    // a cancelled order is still a document
    expectRefused(f, () => sets.Customers.remove!(f.state, created, ctx), { status: 409, code: 'CUSTOMER_HAS_DOCUMENTS', message: /0 invoices and 1 sales order;/ });
    sets.SalesOrders.remove!(f.state, order, ctx);
    expect(sets.Customers.remove!(f.state, created, ctx)).toEqual({ removed: true, effects: [{ entity: 'Customer', id: created, action: 'deleted' }] });
    expect(f.call('GetCustomer', { CustomerId: created }).fault).toMatchObject({ code: 'CUSTOMER_NOT_FOUND' });
    expectRefused(f, () => sets.Customers.remove!(f.state, created, ctx), { status: 404, code: 'CUSTOMER_NOT_FOUND' });
    expect(rowOf(sets.Customers.create!(f.state, { ...NEW_CUSTOMER, ExternalId: 'SF-GONE' }, ctx)).CustomerId).toBe('0001000061');
  });
});

describe('SalesOrders writes', () => {
  it('create: a lineless OPEN order dated by the clock in the customer currency; SOAP serves it within its WSDL', () => {
    const f = erp();
    const c = unlimited(f.state);
    f.clock.set(Date.UTC(2026, 3, 15, 23, 59, 0));
    const result = sets.SalesOrders.create!(f.state, { CustomerId: c, NetAmount: 1234.5, ExternalOrderNumber: 'SF-SO-1', RequestedDeliveryDate: '2026-05-01' }, ctx);
    const row = rowOf(result);
    expect(row).toEqual({
      SalesOrderId: '0070000401',
      ExternalOrderNumber: 'SF-SO-1',
      CustomerId: c,
      OrderStatus: 'OPEN',
      OrderDate: '2026-04-15',
      RequestedDeliveryDate: '2026-05-01',
      CurrencyCode: f.state.customer(c)!.currencyCode,
      NetAmount: 1234.5,
      CancellationReason: null,
      LineCount: 0,
      InvoiceId: null,
      CreatedAt: '2026-04-15T23:59:00.000Z',
      ChangedAt: '2026-04-15T23:59:00.000Z',
    });
    expect(result).toMatchObject({ effects: [{ entity: 'SalesOrder', id: '0070000401', action: 'created' }] });
    expect(f.state.openOrderValueCents(c)).toBe(123_450);

    // through the SOAP handler: checked against the WSDL by the fixture, and by the SOAP engine's own writer
    for (const body of [{ SalesOrderId: '0070000401' }, { ExternalOrderNumber: 'SF-SO-1' }]) {
      const soap = f.call('GetSalesOrder', body);
      expect(soap.body.SalesOrder).toMatchObject({ SalesOrderId: '0070000401', NetAmount: 1234.5, Line: [] });
      expect(soapProblems('GetSalesOrderResponse', soap.body)).toEqual([]);
    }
    // SOAP cancels it as any other order
    expect(f.call('CancelSalesOrder', { SalesOrderId: '0070000401', Reason: 'via SOAP' }).body.SalesOrder).toMatchObject({ OrderStatus: 'CANCELLED', Line: [] });
    expect(f.state.openOrderValueCents(c)).toBe(0);
    // and SOAP's idempotent CreateSalesOrder sees its number as taken by other content
    expect(f.call('CreateSalesOrder', { ExternalOrderNumber: 'SF-SO-1', CustomerId: c, Line: [{ ProductId: 'MAT-000001', Quantity: 1 }] }).fault).toMatchObject({ code: 'EXTERNAL_ORDER_NUMBER_IN_USE' });
  });

  it('create takes an order date, OPEN and the customer currency when sent, and no external number', () => {
    const f = erp();
    const c = unlimited(f.state);
    const cur = f.state.customer(c)!.currencyCode;
    const row = rowOf(sets.SalesOrders.create!(f.state, { CustomerId: c, NetAmount: 0, OrderDate: '2026-01-31', OrderStatus: 'OPEN', CurrencyCode: cur, CancellationReason: null }, ctx));
    expect(row).toMatchObject({ OrderDate: '2026-01-31', ExternalOrderNumber: null, NetAmount: 0, RequestedDeliveryDate: null });
  });

  it('create refusals, each changing nothing', () => {
    const f = erp();
    const c = unlimited(f.state);
    const create = (values: WriteValues) => () => sets.SalesOrders.create!(f.state, values, ctx);
    const other = f.state.customer(c)!.currencyCode === 'EUR' ? 'USD' : 'EUR';
    const soapOrder = f.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-TAKEN', CustomerId: c, Line: [{ ProductId: 'MAT-000001', Quantity: 1 }] }).body.SalesOrder.SalesOrderId;
    expectRefused(f, create({}), { status: 400, code: 'REQUIRED_FIELD_MISSING', target: 'CustomerId', message: /CustomerId, NetAmount/ });
    expectRefused(f, create({ CustomerId: c }), { status: 400, code: 'REQUIRED_FIELD_MISSING', target: 'NetAmount' });
    expectRefused(f, create({ CustomerId: '0001009999', NetAmount: 1 }), { status: 400, code: 'CUSTOMER_NOT_FOUND', target: 'CustomerId' });
    expectRefused(f, create({ CustomerId: 'x', NetAmount: 1 }), { status: 400, code: 'INVALID_VALUE', target: 'CustomerId' });
    expectRefused(f, create({ CustomerId: c, NetAmount: -0.01 }), { status: 400, code: 'INVALID_VALUE', target: 'NetAmount', message: /at least 0/ });
    expectRefused(f, create({ CustomerId: c, NetAmount: 1, CurrencyCode: other }), { status: 400, code: 'INVALID_VALUE', target: 'CurrencyCode', message: /are in/ });
    expectRefused(f, create({ CustomerId: c, NetAmount: 1, CurrencyCode: 'CHF' }), { status: 400, code: 'INVALID_VALUE', target: 'CurrencyCode' });
    expectRefused(f, create({ CustomerId: c, NetAmount: 1, OrderStatus: 'CANCELLED' }), { status: 400, code: 'INVALID_VALUE', target: 'OrderStatus' });
    expectRefused(f, create({ CustomerId: c, NetAmount: 1, OrderStatus: 'DRAFT' }), { status: 400, code: 'INVALID_VALUE', target: 'OrderStatus' });
    expectRefused(f, create({ CustomerId: c, NetAmount: 1, CancellationReason: 'why' }), { status: 400, code: 'INVALID_VALUE', target: 'CancellationReason' });
    expectRefused(f, create({ CustomerId: c, NetAmount: 1, OrderDate: '2026-02-30' }), { status: 400, code: 'INVALID_VALUE', target: 'OrderDate' });
    expectRefused(f, create({ CustomerId: c, NetAmount: 1, ExternalOrderNumber: 'SO-TAKEN' }), {
      status: 409,
      code: 'EXTERNAL_ORDER_NUMBER_IN_USE',
      target: 'ExternalOrderNumber',
      message: new RegExp(`sales order ${soapOrder}`),
    });
    // blocked: through an OData update of the customer
    rowOf(sets.Customers.update!(f.state, c, { Blocked: true }, patch));
    expectRefused(f, create({ CustomerId: c, NetAmount: 1 }), { status: 422, code: 'CUSTOMER_BLOCKED', target: 'CustomerId' });
    // a deleted customer is not found
    const gone = rowOf(sets.Customers.create!(f.state, NEW_CUSTOMER, ctx)).CustomerId as string;
    sets.Customers.remove!(f.state, gone, ctx);
    expectRefused(f, create({ CustomerId: gone, NetAmount: 1 }), { status: 400, code: 'CUSTOMER_NOT_FOUND', target: 'CustomerId' });
  });

  it('the credit limit is checked as CreateSalesOrder checks it: the same limit, the same words', () => {
    const f = erp();
    const c = limited(f.state);
    const customer = f.state.customer(c)!;
    const room = customer.creditLimitCents! - f.state.openOrderValueCents(c);
    const price = f.state.product('MAT-000001')!.unitPriceCents;
    // a quantity whose value is just over the room, as a SOAP order and as an OData amount
    const quantity = Math.floor(room / price) + 1;
    const soap = f.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-CREDIT', CustomerId: c, Line: [{ ProductId: 'MAT-000001', Quantity: quantity }] });
    expect(soap.fault).toMatchObject({ code: 'CREDIT_LIMIT_EXCEEDED' });
    expectRefused(f, () => sets.SalesOrders.create!(f.state, { CustomerId: c, NetAmount: (quantity * price) / 100 }, ctx), {
      status: 422,
      code: 'CREDIT_LIMIT_EXCEEDED',
      target: 'NetAmount',
    });
    expect((sets.SalesOrders.create!(f.state, { CustomerId: c, NetAmount: (quantity * price) / 100 }, ctx) as any).error.message).toBe(soap.fault.message);
    // exactly up to the limit is fine
    const order = rowOf(sets.SalesOrders.create!(f.state, { CustomerId: c, NetAmount: room / 100 }, ctx));
    expect(f.state.openOrderValueCents(c)).toBe(customer.creditLimitCents);
    // raising it by a cent is not; lowering it is
    expectRefused(f, () => sets.SalesOrders.update!(f.state, order.SalesOrderId, { NetAmount: room / 100 + 0.01 }, patch), { status: 422, code: 'CREDIT_LIMIT_EXCEEDED', target: 'NetAmount' });
    rowOf(sets.SalesOrders.update!(f.state, order.SalesOrderId, { NetAmount: 1 }, patch));
    expect(f.state.openOrderValueCents(c)).toBe(customer.creditLimitCents! - room + 100);
  });

  it('update: cancelling (OPEN → CANCELLED) is CancelSalesOrder: the value is released, the customer changes', () => {
    const f = erp();
    const c = unlimited(f.state);
    const order = rowOf(sets.SalesOrders.create!(f.state, { CustomerId: c, NetAmount: 70, ExternalOrderNumber: 'SF-X' }, ctx)).SalesOrderId as string;
    const customerVersion = f.state.customer(c)!.version;
    f.clock.advance(5000);
    const result = sets.SalesOrders.update!(f.state, order, { OrderStatus: 'CANCELLED', CancellationReason: 'duplicate' }, patch);
    expect(rowOf(result)).toMatchObject({ OrderStatus: 'CANCELLED', CancellationReason: 'duplicate', ChangedAt: new Date(START + 5000).toISOString() });
    expect(result).toMatchObject({ effects: [{ entity: 'SalesOrder', id: order, action: 'cancelled' }] });
    expect(f.state.openOrderValueCents(c)).toBe(0);
    expect(f.state.customer(c)!.version).toBe(customerVersion + 1);
    // SOAP sees it cancelled; cancelling again over SOAP is a harmless repeat
    expect(f.call('CancelSalesOrder', { SalesOrderId: order })).toMatchObject({ changedState: false, body: { SalesOrder: { OrderStatus: 'CANCELLED', CancellationReason: 'duplicate' } } });
    // a cancelled order's reason and delivery date may still change; its status and amount may not
    expect(rowOf(sets.SalesOrders.update!(f.state, order, { CancellationReason: 'duplicate of SF-Y', RequestedDeliveryDate: '2026-09-09' }, patch))).toMatchObject({ CancellationReason: 'duplicate of SF-Y' });
    expect(result).toBeDefined();
    expectRefused(f, () => sets.SalesOrders.update!(f.state, order, { OrderStatus: 'OPEN' }, patch), { status: 409, code: 'STATUS_CHANGE_NOT_ALLOWED', target: 'OrderStatus', message: /never reopened/ });
    expectRefused(f, () => sets.SalesOrders.update!(f.state, order, { NetAmount: 71 }, patch), { status: 409, code: 'NET_AMOUNT_NOT_CHANGEABLE', target: 'NetAmount' });
    expect(sets.SalesOrders.update!(f.state, order, { OrderStatus: 'CANCELLED', NetAmount: 70 }, patch)).toMatchObject({ changedState: false });
  });

  it('update refusals and rules on an OPEN order, each refusal changing nothing', () => {
    const f = erp();
    const c = unlimited(f.state);
    const row = rowOf(sets.SalesOrders.create!(f.state, { CustomerId: c, NetAmount: 70, ExternalOrderNumber: 'SF-R' }, ctx));
    const id = row.SalesOrderId as string;
    const update = (values: WriteValues) => () => sets.SalesOrders.update!(f.state, id, values, patch);
    const other = customerWhere(f.state, (x) => x.id !== c);
    expectRefused(f, update({ CustomerId: other }), { status: 400, code: 'FIELD_IMMUTABLE', target: 'CustomerId' });
    expectRefused(f, update({ OrderDate: '2020-01-01' }), { status: 400, code: 'FIELD_IMMUTABLE', target: 'OrderDate' });
    expectRefused(f, update({ CurrencyCode: row.CurrencyCode === 'USD' ? 'EUR' : 'USD' }), { status: 400, code: 'FIELD_IMMUTABLE', target: 'CurrencyCode' });
    expectRefused(f, update({ ExternalOrderNumber: 'SF-R2' }), { status: 400, code: 'EXTERNAL_ID_IMMUTABLE', target: 'ExternalOrderNumber' });
    expectRefused(f, update({ OrderStatus: 'INVOICED' }), { status: 409, code: 'STATUS_CHANGE_NOT_ALLOWED', target: 'OrderStatus' });
    expectRefused(f, update({ CancellationReason: 'not yet' }), { status: 400, code: 'INVALID_VALUE', target: 'CancellationReason' });
    expectRefused(f, update({ NetAmount: -5 }), { status: 400, code: 'INVALID_VALUE', target: 'NetAmount' });
    expectRefused(f, update({ OrderStatus: 'GONE' }), { status: 400, code: 'INVALID_VALUE', target: 'OrderStatus' });
    expectRefused(f, () => sets.SalesOrders.update!(f.state, '0079999999', {}, patch), { status: 404, code: 'ORDER_NOT_FOUND' });
    // what Salesforce's edit sends — every field, the fixed ones unchanged — is fine; the same values again are no change
    const { SalesOrderId: _i, LineCount: _l, InvoiceId: _v, CreatedAt: _c, ChangedAt: _t, ...editable } = row;
    expect(sets.SalesOrders.update!(f.state, id, editable, patch)).toEqual({ row, changedState: false });
    const changed = sets.SalesOrders.update!(f.state, id, { ...editable, NetAmount: 80.25, RequestedDeliveryDate: '2026-07-01' }, patch);
    expect(rowOf(changed)).toMatchObject({ NetAmount: 80.25, RequestedDeliveryDate: '2026-07-01', OrderStatus: 'OPEN' });
    expect(changed).toMatchObject({ effects: [{ entity: 'SalesOrder', id, action: 'updated' }] });
    expect(f.state.openOrderValueCents(c)).toBe(8025);
  });

  it('an order with lines (SOAP\'s) keeps its amount; an INVOICED one is locked, even against a no-op', () => {
    const f = erp();
    const c = unlimited(f.state);
    const soapOrder = f.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-L', CustomerId: c, Line: [{ ProductId: 'MAT-000003', Quantity: 4 }] }).body.SalesOrder;
    expectRefused(f, () => sets.SalesOrders.update!(f.state, soapOrder.SalesOrderId, { NetAmount: 1 }, patch), { status: 409, code: 'NET_AMOUNT_NOT_CHANGEABLE', target: 'NetAmount', message: /sum of its 1 line / });
    // its delivery date may change; SOAP still serves it within its WSDL
    rowOf(sets.SalesOrders.update!(f.state, soapOrder.SalesOrderId, { RequestedDeliveryDate: '2026-12-24', NetAmount: soapOrder.NetAmount }, patch));
    const soap = f.call('GetSalesOrder', { SalesOrderId: soapOrder.SalesOrderId });
    expect(soap.body.SalesOrder).toMatchObject({ RequestedDeliveryDate: '2026-12-24', Line: soapOrder.Line });
    expect(soapProblems('GetSalesOrderResponse', soap.body)).toEqual([]);

    const invoiced = f.state.salesOrders().next().value!;
    expectRefused(f, () => sets.SalesOrders.update!(f.state, invoiced.id, {}, patch), { status: 409, code: 'ORDER_LOCKED', message: new RegExp(`invoice ${invoiced.invoiceId}`) });
    expectRefused(f, () => sets.SalesOrders.update!(f.state, invoiced.id, { OrderStatus: 'CANCELLED' }, patch), { status: 409, code: 'ORDER_LOCKED' });
    expectRefused(f, () => sets.SalesOrders.remove!(f.state, invoiced.id, ctx), { status: 409, code: 'ORDER_LOCKED' });
  });

  it('update (PUT): non-nullable properties must be sent, nullable ones not sent become null', () => {
    const f = erp();
    const c = unlimited(f.state);
    const row = rowOf(sets.SalesOrders.create!(f.state, { CustomerId: c, NetAmount: 10, ExternalOrderNumber: 'SF-P', RequestedDeliveryDate: '2026-06-01' }, ctx));
    const id = row.SalesOrderId as string;
    const full = { CustomerId: c, OrderStatus: 'OPEN', OrderDate: row.OrderDate, CurrencyCode: row.CurrencyCode, NetAmount: 10, ExternalOrderNumber: 'SF-P' };
    expectRefused(f, () => sets.SalesOrders.update!(f.state, id, { CustomerId: c, NetAmount: 10 }, put), { status: 400, code: 'REQUIRED_FIELD_MISSING', target: 'OrderStatus', message: /OrderStatus, OrderDate, CurrencyCode/ });
    const { ExternalOrderNumber: _, ...withoutExternal } = full;
    expectRefused(f, () => sets.SalesOrders.update!(f.state, id, withoutExternal, put), { status: 400, code: 'EXTERNAL_ID_IMMUTABLE', target: 'ExternalOrderNumber' });
    expect(rowOf(sets.SalesOrders.update!(f.state, id, full, put))).toMatchObject({ RequestedDeliveryDate: null, CancellationReason: null });
    expect(sets.SalesOrders.update!(f.state, id, full, put)).toMatchObject({ changedState: false });
  });

  it('remove: an OPEN order gives its value back; SOAP no longer finds it; its external number is free', () => {
    const f = erp();
    const c = unlimited(f.state);
    const id = rowOf(sets.SalesOrders.create!(f.state, { CustomerId: c, NetAmount: 42, ExternalOrderNumber: 'SF-D' }, ctx)).SalesOrderId as string;
    const version = f.state.customer(c)!.version;
    expect(sets.SalesOrders.remove!(f.state, id, ctx)).toEqual({ removed: true, effects: [{ entity: 'SalesOrder', id, action: 'deleted' }] });
    expect(f.state.openOrderValueCents(c)).toBe(0);
    expect(f.state.customer(c)!.version).toBe(version + 1);
    expect(f.call('GetSalesOrder', { SalesOrderId: id }).fault).toMatchObject({ code: 'ORDER_NOT_FOUND' });
    expect(f.call('GetSalesOrder', { ExternalOrderNumber: 'SF-D' }).fault).toMatchObject({ code: 'ORDER_NOT_FOUND' });
    expectRefused(f, () => sets.SalesOrders.remove!(f.state, id, ctx), { status: 404, code: 'ORDER_NOT_FOUND' });
    expect(rowOf(sets.SalesOrders.create!(f.state, { CustomerId: c, NetAmount: 1, ExternalOrderNumber: 'SF-D' }, ctx)).SalesOrderId).not.toBe(id);
  });
});

describe('determinism', () => {
  /** the same OData and SOAP writes at the same clock times */
  function run(): { results: unknown[]; overlays: string } {
    const f = erp({ seed: 7 });
    const c = unlimited(f.state);
    const results: unknown[] = [];
    const at = (ms: number) => f.clock.set(START + ms);
    at(1000);
    results.push(sets.Customers.create!(f.state, { ...NEW_CUSTOMER, ExternalId: 'SF-D1', CreditLimit: 100 }, ctx));
    at(2000);
    results.push(sets.SalesOrders.create!(f.state, { CustomerId: c, NetAmount: 12.34, ExternalOrderNumber: 'SF-O1' }, ctx));
    at(3000);
    results.push(f.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-1', CustomerId: c, Line: [{ ProductId: 'MAT-000005', Quantity: 2 }] }).body);
    at(4000);
    results.push(sets.SalesOrders.update!(f.state, f.state.salesOrderByExternalNumber('SF-O1')!.id, { OrderStatus: 'CANCELLED' }, patch));
    at(5000);
    results.push(sets.Customers.update!(f.state, f.state.customerByExternalId('SF-D1')!.id, { City: 'Bath' }, put));
    results.push(sets.Customers.update!(f.state, f.state.customerByExternalId('SF-D1')!.id, { City: 'Bath', Name: 'Contoso Ltd', Country: 'GB', CurrencyCode: 'GBP', Blocked: false, ExternalId: 'SF-D1' }, put));
    at(6000);
    results.push(sets.SalesOrders.remove!(f.state, f.state.salesOrderByExternalNumber('SF-O1')!.id, ctx));
    return { results, overlays: JSON.stringify(f.state.overlays()) };
  }

  it('gives identical answers and overlays', () => {
    const a = run();
    const b = run();
    expect(b).toEqual(a);
    expect(JSON.parse(a.overlays).revision).toBe(6);
  });
});
