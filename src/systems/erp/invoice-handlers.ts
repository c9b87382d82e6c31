/**
 * GetInvoice and ListInvoices: reads over the seeded invoices (never written, so a page never shifts under a
 * client, whatever orders are created meanwhile).
 *
 * ListInvoices pages by keyset: invoices in InvoiceId order, each page starting after the last InvoiceId of the
 * one before. The page token carries that id and the filters it was made for (base64url of
 * `v1|lastId|customer|status|from|to`), so a token reused with other filters is refused, not silently applied.
 * Counting is cheap: invoice dates increase with the id, so a date range is an index range (binary search), and
 * per-status prefix counts answer TotalCount without a scan; a customer filter walks that customer's own index.
 */
import type { SoapHandler } from '../../protocols/soap/handler.js';
import { clientFault, fault } from './faults.js';
import { dayOfIsoDate, invoiceId } from './ids.js';
import { INVOICE_STATUSES, type InvoiceStatus } from './records.js';
import type { ErpState } from './state.js';
import { invoiceSummaryView, invoiceView } from './views.js';

export const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;

export const getInvoice: SoapHandler<ErpState> = (req, state) => {
  const id = req.body.InvoiceId;
  const index = typeof id === 'string' ? state.invoiceIndexOf(id) : undefined;
  if (index === undefined) return fault('INVOICE_NOT_FOUND', `Invoice ${String(id)} does not exist`);
  return { body: { Invoice: invoiceView(state.invoiceAt(index), state.invoiceLines(index)) } };
};

interface Filters {
  customer: string;
  status: string;
  from: string;
  to: string;
}

export function encodePageToken(lastInvoiceId: string, f: Filters): string {
  return Buffer.from(['v1', lastInvoiceId, f.customer, f.status, f.from, f.to].join('|'), 'utf8').toString('base64url');
}

/** the last InvoiceId of the page before, or undefined when the token is not one made for these filters */
export function decodePageToken(token: string, f: Filters): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const text = Buffer.from(token, 'base64url').toString('utf8');
  // decoding is lenient: only a token that encodes back to itself is one of ours
  if (Buffer.from(text, 'utf8').toString('base64url') !== token) return undefined;
  const parts = text.split('|');
  if (parts.length !== 6 || parts[0] !== 'v1' || !/^[0-9]{10}$/.test(parts[1])) return undefined;
  if (parts[2] !== f.customer || parts[3] !== f.status || parts[4] !== f.from || parts[5] !== f.to) return undefined;
  return parts[1];
}

/** first index in [lo, hi) whose value is > key (values ascending) */
function upperBound(values: ArrayLike<number>, key: number, lo = 0, hi = values.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** first index in [lo, hi) whose value is >= key */
const lowerBound = (values: ArrayLike<number>, key: number, lo = 0, hi = values.length): number => upperBound(values, key - 1, lo, hi);

export const listInvoices: SoapHandler<ErpState> = (req, state) => {
  const body = req.body;
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const filters: Filters = { customer: text(body.CustomerId), status: text(body.InvoiceStatus), from: text(body.FromDate), to: text(body.ToDate) };
  const pageSize = Math.min(MAX_PAGE_SIZE, typeof body.PageSize === 'number' && body.PageSize >= 1 ? Math.floor(body.PageSize) : DEFAULT_PAGE_SIZE);

  let after = -1;
  if (typeof body.PageToken === 'string' && body.PageToken !== '') {
    const lastId = decodePageToken(body.PageToken, filters);
    if (lastId === undefined) {
      return clientFault('INVALID_PAGE_TOKEN', 'PageToken is not a token this ERP issued for these filters; start again without one', [
        { path: 'PageToken', text: 'not a page token for this request' },
      ]);
    }
    after = Number(lastId) - Number(invoiceId(0));
  }

  const base = state.base;
  const statusIndex = filters.status ? INVOICE_STATUSES.indexOf(filters.status as InvoiceStatus) : -1;
  // the date filters as an index range [lo, hi): invoice days never decrease with the index
  const fromDay = filters.from ? dayOfIsoDate(filters.from) : undefined;
  const toDay = filters.to ? dayOfIsoDate(filters.to) : undefined;
  const lo = fromDay === undefined ? 0 : lowerBound(base.invoiceDay, fromDay);
  const hi = toDay === undefined ? state.invoiceCount : upperBound(base.invoiceDay, toDay);
  const matchesStatus = (i: number): boolean => statusIndex < 0 || base.invoiceStatus[i] === statusIndex;

  const page: number[] = [];
  let totalCount = 0;
  let more = false;
  if (lo < hi) {
    if (filters.customer) {
      const own = state.customerInvoiceIndexes(filters.customer);
      const first = lowerBound(own, lo);
      const end = lowerBound(own, hi, first);
      const start = Math.max(first, upperBound(own, after, first, end));
      for (let k = first; k < end; k++) {
        const i = own[k];
        if (!matchesStatus(i)) continue;
        totalCount++;
        if (k < start) continue;
        if (page.length < pageSize) page.push(i);
        else more = true;
      }
    } else {
      const I = state.invoiceCount;
      const before = (i: number): number => (statusIndex < 0 ? i : base.statusBefore[statusIndex * (I + 1) + i]);
      totalCount = before(hi) - before(lo);
      let i = Math.min(hi, Math.max(lo, after + 1));
      for (; i < hi && page.length < pageSize; i++) if (matchesStatus(i)) page.push(i);
      more = before(hi) - before(i) > 0;
    }
  }

  const result: Record<string, unknown> = {
    Invoice: page.map((i) => invoiceSummaryView(state.invoiceAt(i))),
    TotalCount: totalCount,
  };
  if (more) result.NextPageToken = encodePageToken(invoiceId(page[page.length - 1]), filters);
  return { body: result };
};
