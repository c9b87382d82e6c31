/**
 * GetInvoice and ListInvoices: an invoice with all its lines; the minimal ListInvoices answering the first 50
 * seeded invoices; keyset paging through every invoice of a customer (and of a filter) without gaps or repeats,
 * also while orders are created between pages; TotalCount against a brute-force count; INVALID_PAGE_TOKEN for a
 * token that does not decode or was made for other filters; INVOICE_NOT_FOUND.
 */
import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken } from '../../../src/systems/erp/invoice-handlers.js';
import { ERP_DEFAULTS, type ErpState, type InvoiceRecord } from '../../../src/systems/erp/index.js';
import { customerWhere, erp, type Fixture } from './fixtures.js';

/** every page of a ListInvoices request, following NextPageToken */
function allPages(f: Fixture, request: Record<string, unknown>, between?: (page: number) => void): { ids: string[]; totals: number[]; pages: number } {
  const ids: string[] = [];
  const totals: number[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const result = f.call('ListInvoices', { ...request, ...(token ? { PageToken: token } : {}) });
    expect(result.fault).toBeUndefined();
    ids.push(...result.body.Invoice.map((i: { InvoiceId: string }) => i.InvoiceId));
    totals.push(result.body.TotalCount);
    token = result.body.NextPageToken;
    between?.(pages);
    pages++;
    expect(pages).toBeLessThan(10_000);
  } while (token);
  return { ids, totals, pages };
}

function brute(state: ErpState, test: (i: InvoiceRecord) => boolean): string[] {
  const ids: string[] = [];
  for (let i = 0; i < state.invoiceCount; i++) if (test(state.invoiceAt(i))) ids.push(state.invoiceAt(i).id);
  return ids;
}

describe('GetInvoice', () => {
  it('answers the invoice with all its lines', () => {
    const f = erp();
    const invoice = f.state.invoiceAt(12);
    const result = f.call('GetInvoice', { InvoiceId: invoice.id });
    const lines = f.state.invoiceLines(12);
    expect(result.body.Invoice).toEqual({
      InvoiceId: invoice.id,
      CustomerId: invoice.customerId,
      SalesOrderId: invoice.salesOrderId,
      InvoiceStatus: invoice.status,
      InvoiceDate: invoice.invoiceDate,
      DueDate: invoice.dueDate,
      CurrencyCode: invoice.currencyCode,
      NetAmount: invoice.netCents / 100,
      LineCount: lines.length,
      Line: lines.map((l) => ({
        LineNumber: l.lineNumber,
        ProductId: l.productId,
        Description: l.description,
        Quantity: l.quantity,
        UnitPrice: l.unitPriceCents / 100,
        NetAmount: l.netCents / 100,
      })),
    });
    expect(lines).toHaveLength(50);
    const sum = result.body.Invoice.Line.reduce((s: number, l: { NetAmount: number }) => s + Math.round(l.NetAmount * 100), 0);
    expect(sum).toBe(Math.round(result.body.Invoice.NetAmount * 100));
  });

  it.each(['0090000000', '0090000401', '0001000000'])('%s is INVOICE_NOT_FOUND', (id) => {
    expect(erp().call('GetInvoice', { InvoiceId: id }).fault).toMatchObject({ code: 'INVOICE_NOT_FOUND', side: 'server' });
  });
});

describe('ListInvoices', () => {
  it('the minimal request answers the first 50 seeded invoices (default sizes), with a next page', () => {
    const f = erp({ ...ERP_DEFAULTS });
    const result = f.call('ListInvoices', {});
    expect(result.body.Invoice).toHaveLength(50);
    expect(result.body.Invoice.map((i: { InvoiceId: string }) => i.InvoiceId)).toEqual(Array.from({ length: 50 }, (_, i) => String(90_000_001 + i).padStart(10, '0')));
    expect(result.body.Invoice[0]).not.toHaveProperty('Line');
    expect(result.body.Invoice[0].LineCount).toBe(100);
    expect(result.body.TotalCount).toBe(10_000);
    expect(typeof result.body.NextPageToken).toBe('string');
    // a product of a listed invoice's line can be ordered: a client that knows nothing can start here
    const line = f.call('GetInvoice', { InvoiceId: result.body.Invoice[0].InvoiceId }).body.Invoice.Line[0];
    const customer = customerWhere(f.state, (c) => !c.blocked && c.creditLimitCents === null);
    const ordered = f.call('CreateSalesOrder', { ExternalOrderNumber: 'FROM-LIST', CustomerId: customer, Line: [{ ProductId: line.ProductId, Quantity: 1 }] });
    expect(ordered.body.Created).toBe(true);
  });

  it('pages through every invoice without gaps or repeats; the last page has no token', () => {
    const f = erp();
    const { ids, totals, pages } = allPages(f, { PageSize: 37 });
    expect(ids).toEqual(brute(f.state, () => true));
    expect(new Set(totals)).toEqual(new Set([400]));
    expect(pages).toBe(Math.ceil(400 / 37));
  });

  it('pages through all invoices of one customer without gaps or repeats, while orders are created meanwhile', () => {
    const f = erp();
    const customer = customerWhere(f.state, (c) => f.state.customerInvoiceIndexes(c.id).length >= 9 && !c.blocked && c.creditLimitCents === null);
    const expected = brute(f.state, (i) => i.customerId === customer);
    let n = 0;
    const { ids, totals } = allPages(f, { CustomerId: customer, PageSize: 2 }, () => {
      f.clock.advance(1000);
      const created = f.call('CreateSalesOrder', { ExternalOrderNumber: `MEANWHILE-${n++}`, CustomerId: customer, Line: [{ ProductId: 'MAT-000005', Quantity: 1 }] });
      expect(created.body.Created).toBe(true);
    });
    expect(ids).toEqual(expected);
    expect(new Set(totals)).toEqual(new Set([expected.length]));
    expect(f.state.salesOrderCount()).toBe(400 + n);
  });

  it.each([
    { InvoiceStatus: 'OVERDUE' },
    { InvoiceStatus: 'OPEN', PageSize: 3 },
    { FromDate: '2024-06-01', ToDate: '2024-12-31', PageSize: 200 },
    { FromDate: '2025-12-01' },
    { ToDate: '2024-01-31', InvoiceStatus: 'PAID' },
    { CustomerId: '0001000007', InvoiceStatus: 'PAID', FromDate: '2024-03-01' },
    { FromDate: '2025-01-01', ToDate: '2024-01-01' },
    { CustomerId: '0001999999' },
    { CustomerId: null, InvoiceStatus: null, FromDate: null, ToDate: null, PageSize: null, PageToken: null },
  ])('filters %o: the pages hold exactly the matching invoices, TotalCount counts them', (request) => {
    const f = erp();
    const r = request as Record<string, string | number | null>;
    const expected = brute(
      f.state,
      (i) =>
        (r.CustomerId == null || i.customerId === r.CustomerId) &&
        (r.InvoiceStatus == null || i.status === r.InvoiceStatus) &&
        (r.FromDate == null || i.invoiceDate >= (r.FromDate as string)) &&
        (r.ToDate == null || i.invoiceDate <= (r.ToDate as string)),
    );
    const { ids, totals } = allPages(f, request);
    expect(ids).toEqual(expected);
    expect(new Set(totals)).toEqual(new Set([expected.length]));
  });

  it('a page that is exactly the last one carries no NextPageToken', () => {
    const f = erp();
    const result = f.call('ListInvoices', { PageSize: 200 });
    const second = f.call('ListInvoices', { PageSize: 200, PageToken: result.body.NextPageToken });
    expect(second.body.Invoice).toHaveLength(200);
    expect(second.body.NextPageToken).toBeUndefined();
  });

  it.each([
    ['garbage', () => 'not a token!'],
    ['base64 of something else', () => Buffer.from('hello|world').toString('base64url')],
    ['a token with trailing junk', (t: string) => `${t}x`],
    ['made for another customer', () => encodePageToken('0090000010', { customer: '0001000001', status: '', from: '', to: '' })],
    ['made for another status', () => encodePageToken('0090000010', { customer: '', status: 'PAID', from: '', to: '' })],
  ])('a PageToken %s is INVALID_PAGE_TOKEN (client)', (_, make) => {
    const f = erp();
    const token = f.call('ListInvoices', { PageSize: 10 }).body.NextPageToken as string;
    const result = f.call('ListInvoices', { PageSize: 10, PageToken: make(token) });
    expect(result.fault).toMatchObject({ code: 'INVALID_PAGE_TOKEN', side: 'client' });
  });

  it('a token is tied to its filters (decoded only with them) and not to the page size', () => {
    const filters = { customer: '0001000002', status: 'OPEN', from: '2024-01-01', to: '' };
    const token = encodePageToken('0090000033', filters);
    expect(token.length).toBeLessThanOrEqual(200);
    expect(decodePageToken(token, filters)).toBe('0090000033');
    expect(decodePageToken(token, { ...filters, to: '2025-01-01' })).toBeUndefined();
    const f = erp();
    const first = f.call('ListInvoices', { PageSize: 10 });
    const next = f.call('ListInvoices', { PageSize: 25, PageToken: first.body.NextPageToken });
    expect(next.body.Invoice[0].InvoiceId).toBe('0090000011');
    expect(next.body.Invoice).toHaveLength(25);
  });
});
