/**
 * The ERP's writes are durable: customers and sales orders written over SOAP are still there after a restart on
 * the same data directory (replayed from the write log, or restored from a snapshot and the writes after it),
 * idempotent CreateSalesOrder still recognises an order made before the restart, and a `state` reset stays done.
 * Health names the ERP and the receiver as SOAP systems.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { call, json } from '../../helpers.js';
import { durableErpServer as serve, elementText, postRaw } from './soap-support.js';


const envelope = (body: string) =>
  `<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><env:Header/><env:Body>${body}</env:Body></env:Envelope>`;
const erp = (base: string, body: string) => postRaw(base, envelope(body), { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' });

const upsert = (externalId: string, limit: string) =>
  `<UpsertCustomer xmlns="urn:understudy:erp:v1"><ExternalId>${externalId}</ExternalId><Name>Restart Test ${externalId}</Name><Country>DE</Country><CurrencyCode>EUR</CurrencyCode><CreditLimit>${limit}</CreditLimit></UpsertCustomer>`;
const order = (number: string, customer: string, quantity = 1) =>
  `<CreateSalesOrder xmlns="urn:understudy:erp:v1"><ExternalOrderNumber>${number}</ExternalOrderNumber><CustomerId>${customer}</CustomerId><Line><ProductId>MAT-000007</ProductId><Quantity>${quantity}</Quantity></Line></CreateSalesOrder>`;
const getOrder = (number: string) => `<GetSalesOrder xmlns="urn:understudy:erp:v1"><ExternalOrderNumber>${number}</ExternalOrderNumber></GetSalesOrder>`;

describe.each([
  ['replayed from the write log', undefined],
  ['restored from a snapshot and the writes after it', 2],
])('the ERP across a restart, %s', (_how, snapshotEvery) => {
  it('keeps customers and orders written over SOAP; an order made before is still recognised', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-erp-'));
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 8, 0, 0));
    const first = await serve(dir, clock, snapshotEvery);
    let customerId: string;
    let orderId: string;
    let before: string;
    try {
      const created = await erp(first.url, upsert('SF-0017', '9000000.00'));
      expect(created.status).toBe(200);
      customerId = elementText(created.text, 'CustomerId')!;
      clock.advance(1000);
      const made = await erp(first.url, order('SO-R-1', customerId));
      expect(elementText(made.text, 'Created'), made.text).toBe('true');
      orderId = elementText(made.text, 'SalesOrderId')!;
      clock.advance(1000);
      // a second order, cancelled: the compensation is durable too
      const second = await erp(first.url, order('SO-R-2', customerId));
      const secondId = elementText(second.text, 'SalesOrderId')!;
      expect((await erp(first.url, `<CancelSalesOrder xmlns="urn:understudy:erp:v1"><SalesOrderId>${secondId}</SalesOrderId><Reason>test</Reason></CancelSalesOrder>`)).status).toBe(200);
      before = (await erp(first.url, `<GetCustomer xmlns="urn:understudy:erp:v1"><CustomerId>${customerId}</CustomerId></GetCustomer>`)).text;
    } finally {
      await first.close(100);
    }

    clock.advance(60_000);
    const second = await serve(dir, clock, snapshotEvery);
    try {
      const health = (await call(`${second.url}/__admin/health`)).body;
      expect(health.systems).toEqual(expect.arrayContaining([{ name: 'erp', mount: '/erp/soap', protocol: 'soap' }, { name: 'outbound', mount: '/sfdc/outbound', protocol: 'soap' }]));
      // the customer as it was, open order value included (one order open, one cancelled)
      expect((await erp(second.url, `<GetCustomer xmlns="urn:understudy:erp:v1"><CustomerId>${customerId}</CustomerId></GetCustomer>`)).text).toBe(before);
      expect(elementText(before, 'OpenOrderValue')).not.toBe('0.00');
      // the same order again: recognised, not created twice; the next new order gets the next number
      const again = await erp(second.url, order('SO-R-1', customerId));
      expect([elementText(again.text, 'SalesOrderId'), elementText(again.text, 'Created')]).toEqual([orderId, 'false']);
      expect(elementText((await erp(second.url, getOrder('SO-R-2'))).text, 'OrderStatus')).toBe('CANCELLED');
      const third = await erp(second.url, order('SO-R-3', customerId));
      expect(Number(elementText(third.text, 'SalesOrderId'))).toBeGreaterThan(Number(orderId));

      // a reset back to the seeded start is durable too
      expect((await call(`${second.url}/__admin/reset`, json({ scope: 'state' }))).status).toBe(200);
    } finally {
      await second.close(100);
    }
    const third = await serve(dir, clock, snapshotEvery);
    try {
      expect(faultCode((await erp(third.url, getOrder('SO-R-1'))).text)).toBe('ORDER_NOT_FOUND');
    } finally {
      await third.close(100);
    }
  });
});

function faultCode(text: string): string | undefined {
  return elementText(text, 'faultstring')?.split(':')[0];
}
