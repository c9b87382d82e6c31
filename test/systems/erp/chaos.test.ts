/**
 * Chaos on the ERP over real sockets (issue #11): the ERP's own fault (`soapFault`, ORDER_LOCKED on
 * CreateSalesOrder) as the soap npm package raises it in both SOAP versions, answering instead of the operation so
 * that nothing is created, journaled with its key, and drawn deterministically when it has a probability; the
 * backend down (`outage: { mode: soap-fault }`) on every operation and on the WSDL, with the 503 fallback for a
 * REST system under the same rule; `soapFault` on a REST system skipped; and the generic faults on SOAP:
 * `status` 503, `latency`, `reset`, `lostAck` (the order is created, its answer lost: a retry with the same
 * ExternalOrderNumber finds it), `rateLimit` (429 as a SOAP fault with Retry-After). Time that the server waits
 * passes on a ManualScheduler; nothing sleeps.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { ManualScheduler } from '../../../src/util/scheduler.js';
import { call } from '../../helpers.js';
import {
  CALM,
  activate,
  createSalesOrder,
  drive,
  erpCodeOf,
  faultIn,
  getCustomer,
  getSalesOrder,
  journalUntil,
  oneRule,
  post,
  send,
  unlimitedCustomer,
  upsertCustomer,
} from './soap-chaos-support.js';
import { ERP_NS, VERSIONS, elementText, erpClient, erpServer, faultFrom, generic, journal, op } from './soap-support.js';

const LOCKED = 'soapFault: { code: ORDER_LOCKED, string: document is being edited by another user, detail: "Sales document locked by user JSMITH (transaction VA02)", probability: 1 }';
const ON_CREATE = '{ system: erp, operation: CreateSalesOrder }';

async function manualServer(seed = 11) {
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 9, 0, 0));
  const scheduler = new ManualScheduler(clock);
  const server = await erpServer({ seed, clock, scheduler });
  return { url: server.url, clock, scheduler };
}

describe('soapFault ORDER_LOCKED on CreateSalesOrder', () => {
  describe.each(VERSIONS)('through the soap package over SOAP %s', (version) => {
    it('is the fault the client raises (Server/Receiver, HTTP 500, the code leading the faultstring and in the detail); nothing is created', async () => {
      const { url } = await erpServer();
      const customer = await unlimitedCustomer(url);
      await activate(url, oneRule(ON_CREATE, LOCKED, 'orders-locked'));
      const client = await erpClient(url, version);
      const order = { ExternalOrderNumber: 'SO-LOCKED-1', CustomerId: customer, RequestedDeliveryDate: '2026-06-30', Line: [{ ProductId: 'MAT-000001', Quantity: 3 }] };

      const fault = await faultFrom(client, 'CreateSalesOrder', order);
      expect(fault).toMatchObject({
        status: 500,
        code: generic(version, 'server'),
        string: 'ORDER_LOCKED: document is being edited by another user',
        detail: { ErpFault: { Code: 'ORDER_LOCKED', Message: 'Sales document locked by user JSMITH (transaction VA02)' } },
      });
      // in SOAP 1.2 there is no subcode: it is the ERP's fault, not a WS-* one
      expect(fault.subcode).toBeUndefined();

      // nothing was created: the order is not there, and the customer owes nothing
      const missing = await faultFrom(client, 'GetSalesOrder', { ExternalOrderNumber: 'SO-LOCKED-1' });
      expect(missing.detail.ErpFault.Code).toBe('ORDER_NOT_FOUND');
      expect((await op(client, 'GetCustomer', { CustomerId: customer })).Customer.OpenOrderValue).toBe('0.00');

      // journaled: the fault answered, keyed by the ExternalOrderNumber, no effect
      const [entry] = await journal(url, 'operation=CreateSalesOrder');
      expect(entry).toMatchObject({
        system: 'erp',
        protocol: 'soap',
        operation: 'CreateSalesOrder',
        status: 500,
        key: 'SO-LOCKED-1',
        faults: [{ rule: 'orders-locked', kind: 'soapFault', params: { code: 'ORDER_LOCKED', string: 'document is being edited by another user' } }],
      });
      expect(entry.effects ?? []).toEqual([]);

      // the lock lifted, the very same request creates the order
      await activate(url, CALM);
      const created = await op(client, 'CreateSalesOrder', order);
      expect(created.Created).toBe(true);
      expect(created.SalesOrder.ExternalOrderNumber).toBe('SO-LOCKED-1');
      const [after] = await journal(url, 'operation=CreateSalesOrder');
      expect(after).toMatchObject({ status: 200, key: 'SO-LOCKED-1', effects: [{ entity: 'SalesOrder', action: 'created' }] });
    });
  });

  it('without `detail` the Message is the string; without `string` a known code has its own words, another code a generic text', async () => {
    const { url } = await erpServer();
    const customer = await unlimitedCustomer(url);
    await activate(url, oneRule(ON_CREATE, 'soapFault: { code: ORDER_LOCKED, string: document is being edited by another user }'));
    let f = faultIn(await send(url, createSalesOrder('SO-A', customer)));
    expect(f).toEqual({ code: 'soapenv:Server', string: 'ORDER_LOCKED: document is being edited by another user', erpCode: 'ORDER_LOCKED', message: 'document is being edited by another user' });

    await activate(url, oneRule(ON_CREATE, 'soapFault: { code: ORDER_LOCKED }'));
    f = faultIn(await send(url, createSalesOrder('SO-A', customer)));
    expect(f.string).toBe('ORDER_LOCKED: the document is being edited by another user; try again later');
    expect(f.message).toBe('the document is being edited by another user; try again later');

    await activate(url, oneRule(ON_CREATE, 'soapFault: { code: MATERIAL_BLOCKED }'));
    f = faultIn(await send(url, createSalesOrder('SO-A', customer)));
    expect(f).toMatchObject({ code: 'soapenv:Server', string: 'MATERIAL_BLOCKED: the request could not be processed', erpCode: 'MATERIAL_BLOCKED' });
  });

  it('with probability 0.3 is drawn deterministically: the same seed faults the same requests of a client in two fresh servers, about 30% of them', async () => {
    const profile = oneRule(ON_CREATE, 'soapFault: { code: ORDER_LOCKED, probability: 0.3 }', 'orders-locked');
    const faultedIn = async (seed: number): Promise<number[]> => {
      const { url } = await erpServer({ seed });
      const customer = await unlimitedCustomer(url);
      await activate(url, profile);
      const faulted: number[] = [];
      for (let i = 0; i < 200; i++) {
        const o = await send(url, createSalesOrder(`SO-P-${i}`, customer, 1 + (i % 7)), { client: 'order-sync' });
        if (o.status === 200) continue;
        expect(erpCodeOf(o), o.text).toBe('ORDER_LOCKED');
        faulted.push(i);
      }
      // every faulted request created nothing, every other one its order
      const entries = await journal(url, 'operation=CreateSalesOrder&limit=500');
      expect(entries.filter((e: any) => e.client === 'order-sync' && (e.effects ?? []).some((x: any) => x.action === 'created'))).toHaveLength(200 - faulted.length);
      return faulted;
    };
    const first = await faultedIn(11);
    const second = await faultedIn(11);
    expect(second).toEqual(first);
    expect(first.length).toBeGreaterThanOrEqual(40);
    expect(first.length).toBeLessThanOrEqual(80);
    // another seed draws another sequence
    expect(await faultedIn(12)).not.toEqual(first);
  });
});

describe('outage mode soap-fault', () => {
  const bodies = (customer: string): Record<string, string> => ({
    GetCustomer: getCustomer('0001000001'),
    UpsertCustomer: upsertCustomer('SF-DOWN'),
    CreateSalesOrder: createSalesOrder('SO-DOWN', customer),
    GetSalesOrder: getSalesOrder('SO-DOWN'),
    CancelSalesOrder: `<CancelSalesOrder xmlns="${ERP_NS}"><SalesOrderId>0070000001</SalesOrderId><Reason>customer withdrew</Reason></CancelSalesOrder>`,
    GetInvoice: `<GetInvoice xmlns="${ERP_NS}"><InvoiceId>0090000001</InvoiceId></GetInvoice>`,
    ListInvoices: `<ListInvoices xmlns="${ERP_NS}"/>`,
  });

  it.each(VERSIONS)('answers every operation over SOAP %s with a SERVICE_UNAVAILABLE fault (Server/Receiver, 500), and changes nothing', async (version) => {
    const { url } = await erpServer();
    const customer = await unlimitedCustomer(url);
    await activate(url, oneRule('{ system: erp }', 'outage: { mode: soap-fault }', 'erp-backend-down'));
    for (const [operation, body] of Object.entries(bodies(customer))) {
      const o = await send(url, body, { version });
      expect(o.status, `${operation}: ${o.text}`).toBe(500);
      expect(o.headers['content-type']).toBe(version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8');
      expect(faultIn(o), operation).toEqual({
        code: generic(version, 'server'),
        string: 'SERVICE_UNAVAILABLE: the system is not available; try again later',
        erpCode: 'SERVICE_UNAVAILABLE',
        message: 'the system is not available; try again later',
      });
      const [entry] = await journal(url, `operation=${operation}`);
      expect(entry, operation).toMatchObject({ status: 500, faults: [{ rule: 'erp-backend-down', kind: 'outage', params: { mode: 'soap-fault' } }] });
      expect(entry.effects ?? [], operation).toEqual([]);
    }
    // nothing happened: back up, the invoice is still there, the order and the customer were never made, the
    // cancelled order is still open
    await activate(url, CALM);
    expect(erpCodeOf(await send(url, getSalesOrder('SO-DOWN')))).toBe('ORDER_NOT_FOUND');
    const upsert = await send(url, upsertCustomer('SF-DOWN'));
    expect(elementText(upsert.text, 'Created')).toBe('true');
    const cancelled = await send(url, `<GetSalesOrder xmlns="${ERP_NS}"><SalesOrderId>0070000001</SalesOrderId></GetSalesOrder>`);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(elementText(cancelled.text, 'OrderStatus')).not.toBe('CANCELLED');
  });

  it('answers the WSDL fetch (the operation `wsdl`, both bindings) with the same fault: no client can even be built while the backend is down', async () => {
    const { url } = await erpServer();
    await activate(url, oneRule('{ system: erp }', 'outage: { mode: soap-fault }', 'erp-backend-down'));
    for (const query of ['wsdl', 'wsdl&soap=1.2']) {
      const o = await post(url, `/erp/soap?${query}`, '', {}, undefined, 'GET');
      expect(o.status, o.text).toBe(500);
      // a GET carries no SOAP version: the fault comes as SOAP 1.1, text/xml
      expect(o.headers['content-type']).toBe('text/xml; charset=utf-8');
      expect(faultIn(o)).toMatchObject({ code: 'soapenv:Server', erpCode: 'SERVICE_UNAVAILABLE' });
    }
    const [entry] = await journal(url, 'operation=wsdl');
    expect(entry).toMatchObject({ system: 'erp', method: 'GET', status: 500, faults: [{ kind: 'outage', params: { mode: 'soap-fault' } }] });
    await expect(erpClient(url)).rejects.toThrow();
    // once up again, the WSDL is served
    await activate(url, CALM);
    const wsdl = await call(`${url}/erp/soap?wsdl`);
    expect(wsdl.status).toBe(200);
    expect(wsdl.text).toContain('<wsdl:definitions');
  });

  it('matching a REST system too (match: {}), gives the WMS a 503 instead, and the journal records the fallback', async () => {
    const { url } = await erpServer();
    await activate(url, oneRule('{}', 'outage: { mode: soap-fault }', 'everything-down'));
    const wms = await call(`${url}/wms/v1/inventory/SKU-1`);
    expect(wms.status).toBe(503);
    expect(wms.body).toMatchObject({ status: 503, title: 'Service Unavailable' });
    const [entry] = await journal(url, 'system=wms');
    expect(entry.faults).toEqual([{ rule: 'everything-down', kind: 'outage', params: { mode: 'soap-fault', fallback: '503: not a SOAP system' } }]);
    // the ERP under the same rule gets its SOAP fault, with no fallback
    const erp = await send(url, getCustomer('0001000001'));
    expect(erpCodeOf(erp)).toBe('SERVICE_UNAVAILABLE');
    const [erpEntry] = await journal(url, 'system=erp');
    expect(erpEntry.faults[0].params.fallback).toBeUndefined();
  });
});

describe('soapFault on a REST system', () => {
  it('does not apply: the WMS answers as usual, and the journal notes the fault as skipped', async () => {
    const { url } = await erpServer();
    await activate(url, oneRule('{ system: wms, operation: getInventory }', 'soapFault: { code: ORDER_LOCKED }', 'misplaced'));
    const r = await call(`${url}/wms/v1/inventory/SKU-1`);
    expect(r.status).toBe(200);
    expect(r.body.sku).toBe('SKU-1');
    const [entry] = await journal(url, 'system=wms');
    expect(entry.status).toBe(200);
    expect(entry.faults).toEqual([{ rule: 'misplaced', kind: 'soapFault', skipped: 'wms does not speak SOAP' }]);
    const rule = (await call(`${url}/__admin/chaos`)).body.rules.find((x: any) => x.id === 'misplaced');
    expect(rule).toMatchObject({ matched: 1, skipped: 1 });
  });
});

describe('the generic faults on SOAP', () => {
  it.each(VERSIONS)('status 503 (SOAP %s): a SERVICE_UNAVAILABLE fault with HTTP 503 and Retry-After; nothing created', async (version) => {
    const { url } = await manualServer();
    const customer = await unlimitedCustomer(url);
    await activate(url, oneRule(ON_CREATE, 'status: { code: 503, retryAfter: 5s }'));
    const o = await send(url, createSalesOrder('SO-503', customer), { version });
    expect(o.status).toBe(503);
    expect(o.headers['retry-after']).toBe('5');
    expect(faultIn(o)).toMatchObject({ code: generic(version, 'server'), erpCode: 'SERVICE_UNAVAILABLE' });
    expect(faultIn(o).string).toMatch(/^SERVICE_UNAVAILABLE: /);
    const [entry] = await journal(url, 'operation=CreateSalesOrder');
    expect(entry).toMatchObject({ status: 503, key: 'SO-503', faults: [{ kind: 'status' }] });
    await activate(url, CALM);
    expect(erpCodeOf(await send(url, getSalesOrder('SO-503')))).toBe('ORDER_NOT_FOUND');
  });

  it('latency: the answer arrives once the server’s clock has moved on by the delay; a client that gives up first is journaled with no response', async () => {
    const { url, scheduler } = await manualServer();
    await activate(url, oneRule('{ system: erp, operation: GetCustomer }', 'latency: 2500ms', 'slow-reads'));
    const { outcome, waited } = await drive(scheduler, (signal) => send(url, getCustomer('0001000001'), { signal }));
    expect(outcome.status, outcome.text).toBe(200);
    expect(elementText(outcome.text, 'CustomerId')).toBe('0001000001');
    expect(waited).toEqual([2500]);
    const [entry] = await journal(url, 'operation=GetCustomer');
    expect(entry).toMatchObject({ status: 200, faults: [{ rule: 'slow-reads', kind: 'latency', params: { ms: 2500 } }] });
    // a client that gives up after 1 s
    const gaveUp = await drive(scheduler, (signal) => send(url, getCustomer('0001000002'), { signal, client: 'impatient' }), 1000);
    expect(gaveUp.outcome.status).toBe(0);
    expect(gaveUp.outcome.error).toBe('ABORT_ERR');
    const [abandoned] = await journalUntil(url, 'operation=GetCustomer&client=impatient');
    expect(abandoned.status).toBe(0);
    expect(abandoned.transportError).toMatch(/^the client closed the connection while the reply was held \(for 2500 ms/);
    expect(scheduler.pending).toEqual([]);
  });

  // Regression: an entry's end was once its start on the server's clock plus REAL elapsed time, so on a manual clock a
  // reply held 2.5 s by the scheduler was journaled as lasting a few milliseconds.
  it('latency on a ManualClock: the journal’s endedTs is on the server’s clock (2.5 s after ts; 1 s for a client that gave up after 1 s)', async () => {
    const { url, scheduler } = await manualServer();
    await activate(url, oneRule('{ system: erp, operation: GetCustomer }', 'latency: 2500ms', 'slow-reads'));
    await drive(scheduler, (signal) => send(url, getCustomer('0001000001'), { signal }));
    const [entry] = await journal(url, 'operation=GetCustomer');
    await drive(scheduler, (signal) => send(url, getCustomer('0001000002'), { signal, client: 'impatient' }), 1000);
    const [abandoned] = await journalUntil(url, 'operation=GetCustomer&client=impatient');
    expect({ held: Date.parse(entry.endedTs) - Date.parse(entry.ts), abandoned: Date.parse(abandoned.endedTs) - Date.parse(abandoned.ts) }).toEqual({ held: 2500, abandoned: 1000 });
  });

  it('reset: the connection is reset before the operation runs; nothing is created', async () => {
    const { url } = await manualServer();
    const customer = await unlimitedCustomer(url);
    await activate(url, oneRule(ON_CREATE, 'reset'));
    const o = await send(url, createSalesOrder('SO-RESET', customer));
    expect(o.status).toBe(0);
    expect(o.error).toBe('ECONNRESET');
    const [entry] = await journalUntil(url, 'operation=CreateSalesOrder');
    expect(entry).toMatchObject({ status: 0, key: 'SO-RESET', faults: [{ kind: 'reset' }] });
    expect(entry.effects ?? []).toEqual([]);
    await activate(url, CALM);
    expect(erpCodeOf(await send(url, getSalesOrder('SO-RESET')))).toBe('ORDER_NOT_FOUND');
  });

  it('lostAck as timeout: the order IS created, the answer never comes; a retry with the same ExternalOrderNumber gets it back (Created false), one created effect in all', async () => {
    const { url, scheduler } = await manualServer();
    const customer = await unlimitedCustomer(url);
    await activate(url, oneRule(ON_CREATE, 'lostAck: { as: timeout }', 'orders-lost'));
    // the client gives up after 30 s; the server would have held the connection for 130 s
    const lost = await drive(scheduler, (signal) => send(url, createSalesOrder('SO-LOST', customer, 4), { signal, client: 'order-sync' }), 30_000);
    expect(lost.outcome).toMatchObject({ status: 0, error: 'ABORT_ERR' });
    const [first] = await journalUntil(url, 'operation=CreateSalesOrder');
    expect(first).toMatchObject({ status: 0, key: 'SO-LOST', faults: [{ rule: 'orders-lost', kind: 'lostAck' }], effects: [{ entity: 'SalesOrder', action: 'created' }] });
    expect(first.transportError).toMatch(/until the client gave up/);
    expect(scheduler.pending).toEqual([]);

    // it is there, though the client never heard
    const found = await send(url, getSalesOrder('SO-LOST'));
    expect(found.status, found.text).toBe(200);
    const salesOrderId = elementText(found.text, 'SalesOrderId');

    // the retry, the fault gone: the same order back, nothing new
    await activate(url, CALM);
    const retry = await send(url, createSalesOrder('SO-LOST', customer, 4), { client: 'order-sync' });
    expect(retry.status, retry.text).toBe(200);
    expect(elementText(retry.text, 'Created')).toBe('false');
    expect(elementText(retry.text, 'SalesOrderId')).toBe(salesOrderId);
    const entries = await journal(url, 'operation=CreateSalesOrder&key=SO-LOST');
    expect(entries).toHaveLength(2);
    expect(entries.flatMap((e: any) => (e.effects ?? []).filter((x: any) => x.action === 'created'))).toEqual([{ entity: 'SalesOrder', id: salesOrderId, action: 'created' }]);
  });

  it('lostAck as timeout, and a client that never gives up: the server closes after 130 s with no answer; the order exists', async () => {
    const { url, scheduler } = await manualServer();
    const customer = await unlimitedCustomer(url);
    await activate(url, oneRule(ON_CREATE, 'lostAck: { as: timeout }', 'orders-lost'));
    const { outcome, waited } = await drive(scheduler, (signal) => send(url, createSalesOrder('SO-HELD', customer), { signal }));
    expect(waited).toEqual([130_000]);
    expect(outcome.status).toBe(0);
    expect(outcome.error).toBeDefined();
    const [entry] = await journalUntil(url, 'operation=CreateSalesOrder');
    expect(entry.transportError).toBe('held 130000 ms, then closed without a response');
    expect(entry.effects).toEqual([expect.objectContaining({ action: 'created' })]);
    await activate(url, CALM);
    expect((await send(url, getSalesOrder('SO-HELD'))).status).toBe(200);
  });

  it.each(VERSIONS)('rateLimit (SOAP %s): the request over the limit gets HTTP 429, a RATE_LIMIT_EXCEEDED fault with Retry-After; counted per client; the window refills', async (version) => {
    const { url, clock } = await manualServer();
    await activate(url, 'name: erp-quota\nrules:\n  - id: erp-quota\n    match: { system: erp }\n    rateLimit: { requests: 3, per: 1m, by: client }\n');
    for (let i = 0; i < 3; i++) {
      const ok = await send(url, getCustomer('0001000001'), { version, client: 'busy' });
      expect(ok.status).toBe(200);
      expect(ok.headers['ratelimit']).toBe(`"erp-quota";r=${2 - i};t=60`);
    }
    const over = await send(url, getCustomer('0001000001'), { version, client: 'busy' });
    expect(over.status, over.text).toBe(429);
    expect(over.headers['retry-after']).toBe('60');
    expect(over.headers['content-type']).toBe(version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8');
    const f = faultIn(over);
    expect(f).toMatchObject({ code: generic(version, 'client'), erpCode: 'RATE_LIMIT_EXCEEDED' });
    expect(f.string).toMatch(/^RATE_LIMIT_EXCEEDED: /);
    // another client has its own allowance
    expect((await send(url, getCustomer('0001000001'), { version, client: 'other' })).status).toBe(200);
    clock.advance(60_000);
    expect((await send(url, getCustomer('0001000001'), { version, client: 'busy' })).status).toBe(200);
  });
});
