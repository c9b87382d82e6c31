/**
 * OData writes are durable like SOAP's: created, changed and deleted customers and orders are there after a
 * restart on the same data directory (replayed from the write log, or restored from a snapshot and the writes
 * after it), with the same ETags, and a delta link issued before the restart still answers exactly the changes
 * since it — the state it names survived. A state reset after the restart makes that link gone (410).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/util/clock.js';
import { call } from '../../../helpers.js';
import { durableErpServer as serve } from '../soap-support.js';
import { V2, V4 } from './odata-support.js';


const send = (url: string, method: string, body?: unknown, headers: Record<string, string> = {}) =>
  call(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });

describe.each([
  ['replayed from the write log', undefined],
  ['restored from a snapshot and the writes after it', 2],
])('OData writes across a restart, %s', (_how, snapshotEvery) => {
  it('keeps creates, updates and deletes, their ETags, and the delta links issued before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-odata-'));
    const clock = new ManualClock(Date.UTC(2026, 3, 1, 8, 0, 0));
    const first = await serve(dir, clock, snapshotEvery);
    let customerId: string;
    let orderId: string;
    let deleted: string;
    let etag: string;
    let deltaLink: string;
    let before: { customers: string; orders: string };
    try {
      const tracked = await call(`${first.url}${V4}/Customers?$top=0`, { headers: { prefer: 'odata.track-changes' } });
      deltaLink = tracked.body['@odata.deltaLink'];
      clock.advance(1000);
      const created = await send(`${first.url}${V4}/Customers`, 'POST', { Name: 'Durable GmbH', Country: 'DE', CurrencyCode: 'EUR', ExternalId: 'DUR-1', CreditLimit: 1000 });
      expect(created.status, created.text).toBe(201);
      customerId = created.body.CustomerId;
      clock.advance(1000);
      const order = await send(`${first.url}${V4}/SalesOrders`, 'POST', { CustomerId: customerId, NetAmount: 400, ExternalOrderNumber: 'DUR-SO-1' });
      expect(order.status, order.text).toBe(201);
      orderId = order.body.SalesOrderId;
      clock.advance(1000);
      // a v2 MERGE with a CSRF token, through the other service
      const fetched = await fetch(`${first.url}${V2}/`, { headers: { 'x-csrf-token': 'Fetch' } });
      await fetched.text();
      const merged = await send(`${first.url}${V2}/Customers('${customerId}')`, 'MERGE', { City: 'Bremen' }, { 'x-csrf-token': fetched.headers.get('x-csrf-token')! });
      expect(merged.status, merged.text).toBe(204);
      clock.advance(1000);
      const doomed = await send(`${first.url}${V4}/Customers`, 'POST', { Name: 'Short Lived', Country: 'DE', CurrencyCode: 'EUR' });
      deleted = doomed.body.CustomerId;
      expect((await send(`${first.url}${V4}/Customers('${deleted}')`, 'DELETE')).status).toBe(204);
      // a refused write is not logged, and a 412 neither
      expect((await send(`${first.url}${V4}/Customers('${customerId}')`, 'PATCH', { City: 'Nowhere' }, { 'if-match': 'W/"999"' })).status).toBe(412);
      const read = await call(`${first.url}${V4}/Customers('${customerId}')`);
      etag = read.headers.get('etag')!;
      before = {
        customers: (await call(`${first.url}${V4}/Customers?$orderby=ChangedAt desc&$top=5`)).text,
        orders: (await call(`${first.url}${V4}/SalesOrders('${orderId}')`)).text,
      };
    } finally {
      await first.close(100);
    }

    const second = await serve(dir, clock, snapshotEvery);
    try {
      // the same answers, but for the port in the links
      const samePort = (text: string): string => text.replaceAll(second.url, first.url);
      expect(samePort((await call(`${second.url}${V4}/Customers?$orderby=ChangedAt desc&$top=5`)).text)).toBe(before.customers);
      expect(samePort((await call(`${second.url}${V4}/SalesOrders('${orderId}')`)).text)).toBe(before.orders);
      const read = await call(`${second.url}${V4}/Customers('${customerId}')`);
      expect(read.body).toMatchObject({ City: 'Bremen', OpenOrderValue: 400 });
      expect(read.headers.get('etag')).toBe(etag);
      expect((await call(`${second.url}${V4}/Customers('${deleted}')`)).status).toBe(404);
      // the delta link from before the restart: exactly what changed since it
      const delta = await call(deltaLink.replace(/^http:\/\/[^/]+/, second.url));
      expect(delta.status, delta.text).toBe(200);
      const changed = delta.body.value.filter((e: any) => !e['@removed']).map((e: any) => e.CustomerId);
      const removed = delta.body.value.filter((e: any) => e['@removed']).map((e: any) => e.CustomerId);
      expect(changed).toEqual([customerId]);
      expect(removed).toEqual([deleted]);
      // an If-Match with the ETag read before the restart still matches
      expect((await send(`${second.url}${V4}/Customers('${customerId}')`, 'PATCH', { City: 'Kiel' }, { 'if-match': etag })).status).toBe(204);
      // a state reset: the link now names state that is gone
      expect((await send(`${second.url}/__admin/reset`, 'POST', { scope: 'state' })).status).toBe(200);
      expect((await call(deltaLink.replace(/^http:\/\/[^/]+/, second.url))).status).toBe(410);
    } finally {
      await second.close(100);
    }
  });
});
