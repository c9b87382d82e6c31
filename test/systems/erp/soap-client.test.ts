/**
 * The ERP judged by a client nobody here wrote: the `soap` npm package, built from the WSDL the server serves
 * (`GET /erp/soap?wsdl`, its soap:address pointing back at the server), drives every operation over SOAP 1.1 and
 * SOAP 1.2 (`?wsdl&soap=1.2`), and the ERP's faults arrive as faults in it. Then what that client does not send:
 * Apex's own envelope shape as raw requests, and the WSDL's address behind a proxy and under a workspace.
 *
 * What the package does with this WSDL, as observed: it needs `forceSoap12Headers` for SOAP 1.2 (a soap12 binding
 * alone changes nothing on the wire); it sends a JavaScript null as `xsi:nil="true"`; it leaves amounts (restrictions
 * of xsd:decimal) and quantities (restrictions of xsd:int) as strings ("2500.50", "5") while a plain xsd:int is a
 * number; it writes an object's keys in their own order, not the schema's (the server refuses an out-of-order
 * sequence, so callers keep the WSDL's order); parses xsd:date into a Date at UTC midnight, and drops xsi:nil elements of
 * a response from the parsed object (the raw response has them).
 */
import { describe, expect, it } from 'vitest';
import { rawRequest } from '../../helpers.js';
import {
  ERP_NS,
  SOAP11_NS,
  SOAP12_NS,
  VERSIONS,
  elementText,
  erpClient,
  erpServer,
  faultFrom,
  faultStatus,
  faultStringOf,
  generic,
  journal,
  op,
  postRaw,
  SMALL_ERP,
} from './soap-support.js';

const SEEDED_CUSTOMER = '0001000003';
const NOT_A_CUSTOMER = '0009999999';

describe.each(VERSIONS)('the soap package over SOAP %s', (version) => {
  const envelopeNs = version === '1.1' ? SOAP11_NS : SOAP12_NS;

  it('sends the version it was built for, and GetCustomer answers a seeded customer', async () => {
    const { url } = await erpServer();
    const client = await erpClient(url, version);
    const result = await op(client, 'GetCustomer', { CustomerId: SEEDED_CUSTOMER });
    expect(result.Customer).toMatchObject({
      CustomerId: SEEDED_CUSTOMER,
      Name: expect.any(String),
      Country: expect.stringMatching(/^[A-Z]{2}$/),
      CurrencyCode: expect.stringMatching(/^(EUR|USD|GBP)$/),
      OpenOrderValue: '0.00',
      Blocked: expect.any(Boolean),
    });

    // on the wire: the version's envelope namespace, media type and action
    expect(client.lastRequest).toContain(`xmlns:soap="${envelopeNs}"`);
    expect(client.lastRequest).toContain(`<GetCustomer xmlns="${ERP_NS}">`);
    const sent = client.lastRequestHeaders;
    if (version === '1.1') {
      expect(sent['Content-Type']).toBe('text/xml; charset=utf-8');
      expect(sent.SOAPAction).toBe(`"${ERP_NS}/GetCustomer"`);
    } else {
      expect(sent['Content-Type']).toBe(`application/soap+xml; charset=utf-8; action="${ERP_NS}/GetCustomer"`);
      expect(sent.SOAPAction).toBeUndefined();
    }
    // and the answer in the same version
    expect(String(client.lastResponseHeaders!['content-type'])).toBe(version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8');
    expect(client.lastResponse).toContain(`xmlns:soapenv="${envelopeNs}"`);

    const [entry] = await journal(url, 'operation=GetCustomer');
    expect(entry).toMatchObject({ system: 'erp', protocol: 'soap', operation: 'GetCustomer', status: 200, method: 'POST', path: '/erp/soap' });
  });

  it('UpsertCustomer creates, then updates only what is sent; a null CreditLimit goes out as xsi:nil and clears it', async () => {
    const { url } = await erpServer();
    const client = await erpClient(url, version);
    const created = await op(client, 'UpsertCustomer', { ExternalId: 'SF-0001', Name: 'Acme Widgets Ltd', Country: 'GB', CurrencyCode: 'GBP', CreditLimit: 2500.5 });
    const id = `000${1_000_000 + SMALL_ERP.customers}`;
    expect(created).toMatchObject({ Created: true, Customer: { CustomerId: id, ExternalId: 'SF-0001', Name: 'Acme Widgets Ltd', Country: 'GB', CurrencyCode: 'GBP', CreditLimit: '2500.50', Blocked: false } });

    // the package writes the object's keys in their own order, not the schema's: keep them in the sequence's order
    const unordered = await faultFrom(client, 'UpsertCustomer', { ExternalId: 'SF-0001', City: 'Leeds', Email: 'ap@acme.example' });
    expect(unordered).toMatchObject({ status: faultStatus(version, 'client'), code: generic(version, 'client'), detail: { ErpFault: { Code: 'VALIDATION_FAILED', Problem: { Path: 'UpsertCustomer/Email' } } } });
    expect(unordered.string).toContain('out of order');
    const updated = await op(client, 'UpsertCustomer', { ExternalId: 'SF-0001', Email: 'ap@acme.example', City: 'Leeds' });
    expect(updated.Created).toBe(false);
    expect(updated.Customer).toMatchObject({ CustomerId: id, Name: 'Acme Widgets Ltd', City: 'Leeds', Email: 'ap@acme.example', CreditLimit: '2500.50' });

    // null: the package writes xsi:nil, the server takes it as "clear"
    const cleared = await op(client, 'UpsertCustomer', { ExternalId: 'SF-0001', CreditLimit: null });
    expect(client.lastRequest).toContain('<CreditLimit xsi:nil="true"></CreditLimit>');
    expect(cleared.Created).toBe(false);
    expect(client.lastResponse).toContain('<CreditLimit xsi:nil="true"/>');
    expect(cleared.Customer.CreditLimit).toBeUndefined(); // the package drops nil elements
    expect(cleared.Customer).toMatchObject({ CustomerId: id, City: 'Leeds' });
    const read = await op(client, 'GetCustomer', { CustomerId: id });
    expect(read.Customer.CreditLimit).toBeUndefined();
    expect(client.lastResponse).toContain('<CreditLimit xsi:nil="true"/>');
    expect(read.Customer).toMatchObject({ City: 'Leeds', Email: 'ap@acme.example' });

    // journaled with the external id as key; only the insert created a record
    const entries = (await journal(url, 'operation=UpsertCustomer')).reverse();
    expect(entries.map((e) => [e.key, e.status])).toEqual([
      ['SF-0001', 200],
      ['SF-0001', faultStatus(version, 'client')],
      ['SF-0001', 200],
      ['SF-0001', 200],
    ]);
    expect(entries[0].effects).toEqual([{ entity: 'Customer', id, action: 'created' }]);
    for (const e of entries.slice(1)) expect((e.effects ?? []).filter((x: any) => x.action === 'created')).toEqual([]);
  });

  it('CreateSalesOrder is idempotent by ExternalOrderNumber; GetSalesOrder reads it; CancelSalesOrder releases its value', async () => {
    const { url } = await erpServer();
    const client = await erpClient(url, version);
    const customer = (await op(client, 'UpsertCustomer', { ExternalId: 'SF-ORD', Name: 'Orders Inc', Country: 'DE', CurrencyCode: 'EUR', CreditLimit: 1_000_000 })).Customer;
    const order = { ExternalOrderNumber: 'SO-1001', CustomerId: customer.CustomerId, RequestedDeliveryDate: '2026-06-30', Line: [{ ProductId: 'MAT-000001', Quantity: 2 }, { ProductId: 'MAT-000017', Quantity: 5 }] };

    const first = await op(client, 'CreateSalesOrder', order);
    expect(first.Created).toBe(true);
    const so = first.SalesOrder;
    expect(so).toMatchObject({ SalesOrderId: expect.stringMatching(/^[0-9]{10}$/), ExternalOrderNumber: 'SO-1001', CustomerId: customer.CustomerId, OrderStatus: 'OPEN', CurrencyCode: 'EUR' });
    // LineNumber is an xsd:int (a number); Quantity a restriction of xsd:int, which the package leaves a string
    expect(so.Line.map((l: any) => [l.LineNumber, l.ProductId, l.Quantity])).toEqual([
      [10, 'MAT-000001', '2'],
      [20, 'MAT-000017', '5'],
    ]);
    const cents = (s: string) => Math.round(Number(s) * 100);
    const net = cents(so.NetAmount);
    expect(net).toBe(so.Line.reduce((sum: number, l: any) => sum + cents(l.NetAmount), 0));

    const again = await op(client, 'CreateSalesOrder', order);
    expect(again.Created).toBe(false);
    expect(again.SalesOrder.SalesOrderId).toBe(so.SalesOrderId);

    // the journal: keyed by the ExternalOrderNumber, a created effect on the first only
    const entries = (await journal(url, 'operation=CreateSalesOrder&key=SO-1001')).reverse();
    expect(entries).toHaveLength(2);
    for (const e of entries) expect(e).toMatchObject({ operation: 'CreateSalesOrder', protocol: 'soap', system: 'erp', key: 'SO-1001', status: 200 });
    expect(entries[0].effects).toEqual([{ entity: 'SalesOrder', id: so.SalesOrderId, action: 'created' }]);
    expect((entries[1].effects ?? []).filter((x: any) => x.action === 'created')).toEqual([]);

    expect((await op(client, 'GetSalesOrder', { SalesOrderId: so.SalesOrderId })).SalesOrder).toMatchObject({ SalesOrderId: so.SalesOrderId, ExternalOrderNumber: 'SO-1001', OrderStatus: 'OPEN' });
    expect((await op(client, 'GetSalesOrder', { ExternalOrderNumber: 'SO-1001' })).SalesOrder.SalesOrderId).toBe(so.SalesOrderId);
    expect(cents((await op(client, 'GetCustomer', { CustomerId: customer.CustomerId })).Customer.OpenOrderValue)).toBe(net);

    // the compensating action
    const cancelled = await op(client, 'CancelSalesOrder', { SalesOrderId: so.SalesOrderId, Reason: 'Opportunity lost' });
    expect(cancelled.SalesOrder).toMatchObject({ SalesOrderId: so.SalesOrderId, OrderStatus: 'CANCELLED', CancellationReason: 'Opportunity lost' });
    expect((await op(client, 'GetCustomer', { CustomerId: customer.CustomerId })).Customer.OpenOrderValue).toBe('0.00');
    expect((await op(client, 'GetSalesOrder', { SalesOrderId: so.SalesOrderId })).SalesOrder.OrderStatus).toBe('CANCELLED');
    // cancelling again is a harmless repeat
    expect((await op(client, 'CancelSalesOrder', { SalesOrderId: so.SalesOrderId })).SalesOrder.OrderStatus).toBe('CANCELLED');
    const [cancel] = (await journal(url, 'operation=CancelSalesOrder')).reverse();
    expect(cancel.effects).toEqual([{ entity: 'SalesOrder', id: so.SalesOrderId, action: 'cancelled' }]);
  });

  it('GetInvoice answers lines with their ProductId; ListInvoices answers its empty request with seeded invoices and pages to the end', async () => {
    const { url } = await erpServer();
    const client = await erpClient(url, version);
    const first = await op(client, 'ListInvoices', {});
    expect(client.lastRequest).toMatch(/<ListInvoices xmlns="urn:understudy:erp:v1"><\/ListInvoices>|<ListInvoices xmlns="urn:understudy:erp:v1"\/>/);
    expect(first.TotalCount).toBe(SMALL_ERP.invoices);
    expect(first.Invoice.length).toBeGreaterThan(0);
    expect(first.Invoice[0]).toMatchObject({ InvoiceId: expect.stringMatching(/^[0-9]{10}$/), CustomerId: expect.stringMatching(/^[0-9]{10}$/), InvoiceStatus: expect.stringMatching(/^(OPEN|PAID|OVERDUE)$/), LineCount: expect.any(Number) });
    expect(first.NextPageToken).toEqual(expect.any(String));

    const ids: string[] = first.Invoice.map((i: any) => i.InvoiceId);
    let token: string | undefined = first.NextPageToken;
    let pages = 1;
    while (token) {
      const page = await op(client, 'ListInvoices', { PageSize: 75, PageToken: token });
      expect(page.TotalCount).toBe(SMALL_ERP.invoices);
      const items = Array.isArray(page.Invoice) ? page.Invoice : [page.Invoice];
      expect(items.length).toBeLessThanOrEqual(75);
      ids.push(...items.map((i: any) => i.InvoiceId));
      token = page.NextPageToken;
      pages++;
      expect(pages).toBeLessThan(20);
    }
    expect(ids).toHaveLength(SMALL_ERP.invoices);
    expect(new Set(ids).size).toBe(SMALL_ERP.invoices);
    expect([...ids].sort()).toEqual(ids);

    const invoice = (await op(client, 'GetInvoice', { InvoiceId: ids[7] })).Invoice;
    expect(invoice).toMatchObject({ InvoiceId: ids[7], LineCount: expect.any(Number) });
    const lines = Array.isArray(invoice.Line) ? invoice.Line : [invoice.Line];
    expect(lines).toHaveLength(invoice.LineCount);
    for (const line of lines) expect(line).toMatchObject({ ProductId: expect.stringMatching(/^MAT-[0-9]{6}$/), Quantity: expect.stringMatching(/^[1-9][0-9]*$/), UnitPrice: expect.any(String), NetAmount: expect.any(String) });
  });

  it('a client that knows nothing lists invoices, reads one, and orders a product from its lines', async () => {
    const { url } = await erpServer();
    const client = await erpClient(url, version);
    await knowsNothing(client);
  });

  it('domain faults arrive as faults: CUSTOMER_NOT_FOUND, and CREDIT_LIMIT_EXCEEDED creating nothing', async () => {
    const { url } = await erpServer();
    const client = await erpClient(url, version);
    const missing = await faultFrom(client, 'GetCustomer', { CustomerId: NOT_A_CUSTOMER });
    expect(missing).toMatchObject({ status: faultStatus(version, 'server'), code: generic(version, 'server'), detail: { ErpFault: { Code: 'CUSTOMER_NOT_FOUND' } } });
    expect(missing.string).toMatch(/^CUSTOMER_NOT_FOUND: .*0009999999/);
    expect(missing.detail.ErpFault.Message).toContain(NOT_A_CUSTOMER);
    // the package puts the code and the string in its message, as an application would log it
    expect(missing.message).toContain('CUSTOMER_NOT_FOUND');

    const customer = (await op(client, 'UpsertCustomer', { ExternalId: 'SF-SMALL', Name: 'Small Budget Ltd', Country: 'GB', CurrencyCode: 'GBP', CreditLimit: 1 })).Customer;
    const over = await faultFrom(client, 'CreateSalesOrder', { ExternalOrderNumber: 'SO-TOO-BIG', CustomerId: customer.CustomerId, Line: [{ ProductId: 'MAT-000002', Quantity: 100 }] });
    expect(over).toMatchObject({ status: faultStatus(version, 'server'), code: generic(version, 'server'), detail: { ErpFault: { Code: 'CREDIT_LIMIT_EXCEEDED' } } });
    expect(over.string).toMatch(/^CREDIT_LIMIT_EXCEEDED: /);
    // nothing created: not by its number, and no open order value
    const none = await faultFrom(client, 'GetSalesOrder', { ExternalOrderNumber: 'SO-TOO-BIG' });
    expect(none.string).toMatch(/^ORDER_NOT_FOUND: /);
    expect(none.detail.ErpFault.Code).toBe('ORDER_NOT_FOUND');
    expect((await op(client, 'GetCustomer', { CustomerId: customer.CustomerId })).Customer.OpenOrderValue).toBe('0.00');
    const [entry] = await journal(url, 'operation=CreateSalesOrder&key=SO-TOO-BIG');
    expect(entry).toMatchObject({ status: faultStatus(version, 'server'), key: 'SO-TOO-BIG' });
    expect(entry.effects ?? []).toEqual([]);

    const noOrder = await faultFrom(client, 'CancelSalesOrder', { SalesOrderId: '0079999999' });
    expect(noOrder.detail.ErpFault.Code).toBe('ORDER_NOT_FOUND');
    const noInvoice = await faultFrom(client, 'GetInvoice', { InvoiceId: '0099999999' });
    expect(noInvoice).toMatchObject({ status: faultStatus(version, 'server'), detail: { ErpFault: { Code: 'INVOICE_NOT_FOUND' } } });
    const badToken = await faultFrom(client, 'ListInvoices', { PageToken: 'not-a-token' });
    expect(badToken).toMatchObject({ status: faultStatus(version, 'client'), code: generic(version, 'client'), detail: { ErpFault: { Code: 'INVALID_PAGE_TOKEN' } } });
  });

  it('a request that breaks the schema is a Client / Sender fault, VALIDATION_FAILED, its detail listing each problem', async () => {
    const { url } = await erpServer();
    const client = await erpClient(url, version);
    const one = await faultFrom(client, 'GetCustomer', { CustomerId: 'ABC-1' });
    expect(one).toMatchObject({ status: faultStatus(version, 'client'), code: generic(version, 'client') });
    expect(one.string).toMatch(/^VALIDATION_FAILED: /);
    expect(one.detail.ErpFault).toMatchObject({ Code: 'VALIDATION_FAILED', Problem: { Path: 'GetCustomer/CustomerId', Text: expect.stringContaining('pattern') } });

    const three = await faultFrom(client, 'CreateSalesOrder', { ExternalOrderNumber: 'SO-BAD', CustomerId: '12', Line: [{ ProductId: 'WIDGET', Quantity: 0 }] });
    expect(three).toMatchObject({ status: faultStatus(version, 'client'), code: generic(version, 'client') });
    expect(three.string).toMatch(/^VALIDATION_FAILED: the request does not match the WSDL \(3 problems\)/);
    const problems = three.detail.ErpFault.Problem;
    expect(problems.map((p: any) => p.Path)).toEqual(['CreateSalesOrder/CustomerId', 'CreateSalesOrder/Line[1]/ProductId', 'CreateSalesOrder/Line[1]/Quantity']);
    for (const p of problems) expect(three.string).toContain(p.Path);
    const [entry] = await journal(url, 'operation=CreateSalesOrder');
    expect(entry).toMatchObject({ key: 'SO-BAD', status: faultStatus(version, 'client'), contract: { valid: false } });
    expect(entry.contract.errors).toHaveLength(3);
    expect(entry.effects ?? []).toEqual([]);
  });
});

/** ListInvoices → GetInvoice → a line's ProductId → CreateSalesOrder for that invoice's customer (one that may order). */
async function knowsNothing(client: Awaited<ReturnType<typeof erpClient>>): Promise<void> {
  const list = await op(client, 'ListInvoices', {});
  expect(list.TotalCount).toBeGreaterThan(0);
  for (const summary of list.Invoice) {
    const customer = (await op(client, 'GetCustomer', { CustomerId: summary.CustomerId })).Customer;
    if (customer.Blocked) continue;
    const invoice = (await op(client, 'GetInvoice', { InvoiceId: summary.InvoiceId })).Invoice;
    const line = Array.isArray(invoice.Line) ? invoice.Line[0] : invoice.Line;
    if (customer.CreditLimit !== undefined && Number(customer.CreditLimit) < Number(line.UnitPrice)) continue;
    const result = await op(client, 'CreateSalesOrder', { ExternalOrderNumber: `SO-FROM-${invoice.InvoiceId}`, CustomerId: customer.CustomerId, Line: [{ ProductId: line.ProductId, Quantity: 1 }] });
    expect(result.Created).toBe(true);
    expect(result.SalesOrder).toMatchObject({ CustomerId: customer.CustomerId, OrderStatus: 'OPEN', Line: [{ ProductId: line.ProductId, Quantity: '1', UnitPrice: line.UnitPrice }] });
    return;
  }
  throw new Error('no invoice on the first page has a customer that may order');
}

describe('the soap package against the default sizes', () => {
  it('500 customers, 10,000 invoices, a million lines: the client that knows nothing still gets its order in', async () => {
    const { url } = await erpServer({ systems: { erp: { customers: 500, invoices: 10_000, invoiceLines: 1_000_000 } } });
    const client = await erpClient(url);
    expect((await op(client, 'ListInvoices', {})).TotalCount).toBe(10_000);
    await knowsNothing(client);
  });
});

/** An envelope as Apex writes it (SALESFORCE.md §7): env: prefix, an empty env:Header, a default xmlns on the body element. */
function apexEnvelope(body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    `<env:Header /><env:Body>${body}</env:Body></env:Envelope>`
  );
}

describe("Apex's envelope, sent raw", () => {
  const getCustomer = apexEnvelope(`<GetCustomer xmlns="${ERP_NS}"><CustomerId>${SEEDED_CUSTOMER}</CustomerId></GetCustomer>`);

  it.each([
    ['quoted', `"${ERP_NS}/GetCustomer"`],
    ['unquoted', `${ERP_NS}/GetCustomer`],
    ['empty quotes', '""'],
    ['empty', ''],
    ['the bare operation name', 'GetCustomer'],
  ])('SOAPAction %s is accepted', async (_name, action) => {
    const { url } = await erpServer();
    const reply = await postRaw(url, getCustomer, { 'content-type': 'text/xml; charset=UTF-8', soapaction: action });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.contentType).toBe('text/xml; charset=utf-8');
    expect(elementText(reply.text, 'CustomerId')).toBe(SEEDED_CUSTOMER);
    expect(reply.text).toContain(`<GetCustomerResponse xmlns="${ERP_NS}">`);
  });

  it('Apex writes null as xsi:nil with the xsi prefix declared on the envelope: UpsertCustomer clears the credit limit', async () => {
    const { url } = await erpServer();
    const headers = { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${ERP_NS}/UpsertCustomer"` };
    const create = apexEnvelope(`<UpsertCustomer xmlns="${ERP_NS}"><ExternalId>SF-APEX</ExternalId><Name>Apex Co</Name><Country>US</Country><CurrencyCode>USD</CurrencyCode><CreditLimit>900</CreditLimit></UpsertCustomer>`);
    const created = await postRaw(url, create, headers);
    expect(created.status, created.text).toBe(200);
    expect(elementText(created.text, 'CreditLimit')).toBe('900.00');
    const clear = apexEnvelope(`<UpsertCustomer xmlns="${ERP_NS}"><ExternalId>SF-APEX</ExternalId><City xsi:nil="true"/><CreditLimit xsi:nil="true"/></UpsertCustomer>`);
    const cleared = await postRaw(url, clear, headers);
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.text).toContain('<CreditLimit xsi:nil="true"/>');
    expect(elementText(cleared.text, 'Created')).toBe('false');
  });

  it('a SOAPAction naming another operation is a Client fault, ACTION_MISMATCH (1.2: the action parameter, a Sender fault)', async () => {
    const { url } = await erpServer();
    const reply = await postRaw(url, getCustomer, { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${ERP_NS}/CancelSalesOrder"` });
    expect(reply.status).toBe(500);
    expect(elementText(reply.text, 'faultcode')).toBe('soapenv:Client');
    expect(faultStringOf(reply.text)).toMatch(/^ACTION_MISMATCH: /);

    const soap12 = `<?xml version="1.0"?><env:Envelope xmlns:env="${SOAP12_NS}"><env:Body><GetCustomer xmlns="${ERP_NS}"><CustomerId>${SEEDED_CUSTOMER}</CustomerId></GetCustomer></env:Body></env:Envelope>`;
    const reply12 = await postRaw(url, soap12, { 'content-type': `application/soap+xml; charset=utf-8; action="${ERP_NS}/ListInvoices"` });
    expect(reply12.status).toBe(400);
    expect(reply12.contentType).toBe('application/soap+xml; charset=utf-8');
    expect(elementText(reply12.text, 'Value')).toBe('soapenv:Sender');
    expect(faultStringOf(reply12.text)).toMatch(/^ACTION_MISMATCH: /);
    // nothing was done: the journal has the refusal only
    const entries = await journal(url, 'system=erp');
    expect(entries.map((e) => e.status).sort()).toEqual([400, 500]);
  });
});

describe('the WSDL the server serves', () => {
  it('behind a TLS-terminating proxy: soap:address has the forwarded scheme and the Host', async () => {
    const { url } = await erpServer();
    for (const [query, tag] of [
      ['wsdl', 'soap:address'],
      ['wsdl&soap=1.2', 'soap12:address'],
    ]) {
      const res = await rawRequest(url, `/erp/soap?${query}`, { headers: { host: 'erp.example.test', 'x-forwarded-proto': 'https' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
      expect(res.text).toContain(`<${tag} location="https://erp.example.test/erp/soap"/>`);
    }
    const plain = await rawRequest(url, '/erp/soap?wsdl', { headers: { host: 'erp.example.test:8443' } });
    expect(plain.text).toContain('<soap:address location="http://erp.example.test:8443/erp/soap"/>');
  });

  it("under a workspace the address has the workspace's path, and a client built from it writes into that workspace only", async () => {
    const { url } = await erpServer();
    const wsdl = await rawRequest(url, '/w/ci-1/erp/soap?wsdl', { headers: { host: 'erp.example.test' } });
    expect(wsdl.text).toContain('<soap:address location="http://erp.example.test/w/ci-1/erp/soap"/>');

    for (const version of VERSIONS) {
      const inWorkspace = await erpClient(`${url}/w/ci-1`, version);
      const outside = await erpClient(url, version);
      const ext = `SF-WS-${version}`;
      const created = (await op(inWorkspace, 'UpsertCustomer', { ExternalId: ext, Name: 'Workspace Only', Country: 'FR', CurrencyCode: 'EUR' })).Customer;
      expect(inWorkspace.lastEndpoint).toBe(`${url}/w/ci-1/erp/soap`);
      expect((await op(inWorkspace, 'GetCustomer', { CustomerId: created.CustomerId })).Customer.ExternalId).toBe(ext);
      await op(inWorkspace, 'CreateSalesOrder', { ExternalOrderNumber: `SO-WS-${version}`, CustomerId: created.CustomerId, Line: [{ ProductId: 'MAT-000003', Quantity: 1 }] });
      // the default workspace has neither the customer nor the order (its own numbering gave the same id to nobody)
      const notThere = await faultFrom(outside, 'GetSalesOrder', { ExternalOrderNumber: `SO-WS-${version}` });
      expect(notThere.detail.ErpFault.Code).toBe('ORDER_NOT_FOUND');
    }
    // the default workspace's first new customer would have taken the first id: it is not there
    const outside = await erpClient(url);
    const missing = await faultFrom(outside, 'GetCustomer', { CustomerId: `000${1_000_000 + SMALL_ERP.customers}` });
    expect(missing.detail.ErpFault.Code).toBe('CUSTOMER_NOT_FOUND');
    // and each journal has its own
    expect(await journal(url, 'operation=UpsertCustomer')).toEqual([]);
    expect((await journal(`${url}/w/ci-1`, 'operation=UpsertCustomer')).map((e) => e.key).sort()).toEqual(['SF-WS-1.1', 'SF-WS-1.2']);
    expect((await journal(`${url}/w/ci-1`, 'operation=CreateSalesOrder'))[0]).toMatchObject({ workspace: 'ci-1', effects: [{ action: 'created' }] });
  });
});
