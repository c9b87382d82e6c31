/**
 * idempotency.keyReused and idempotency.noDuplicateEffects, judged on real clients after lost acknowledgements
 * (the operation takes effect, the caller sees a 502 and cannot tell): each client retries the way some real
 * integration code does, and the report card must say which of them kept its key and which created a second
 * reservation or charge. The chaos draws are seeded per (seed, rule, client, request count), so with a fixed
 * seed and fixed client names every run loses the same acknowledgements.
 */
import { describe, expect, it } from 'vitest';
import { call, start } from '../helpers.js';
import { activate, checkOf, countsOf, report, send, succeeded, withRetries, type Outcome } from './wms-clients.js';

const SEED = 1234;
const ORDERS = 6;
const RETRY_DELAY_MS = 50;

const LOSE_RESERVATION_ACKS = `
name: lost-reservation-acks
rules:
  - id: reservation-ack-lost
    match: { system: wms, operation: createReservation, client: /-(order-id|header-key)$/ }
    faults: [ { lostAck: { as: 502, probability: 0.5 } } ]
`;

const LOSE_CHARGE_ACKS = `
name: lost-charge-acks
rules:
  - id: charge-ack-lost
    match: { system: payments, operation: createCharge }
    faults: [ { lostAck: { as: 502, probability: 0.5 } } ]
`;

/** the lines of order n: distinct per order, as different orders are */
const linesOf = (n: number) => [{ sku: `SKU-${n}`, quantity: 1 }, { sku: 'SKU-20', quantity: n }];

type ReservationBody = { externalOrderId: string; lines: Array<{ sku: string; quantity: number }> };

/**
 * An order worker: reserves each order, retrying a failed attempt after a short delay. `attempt(order, n)` says
 * what attempt n of an order sends (its body and headers): that is where the clients differ.
 */
async function reserveOrders(base: string, client: string, attempt: (order: number, n: number) => { body: ReservationBody; headers?: Record<string, string> }): Promise<Outcome[]> {
  const finals: Outcome[] = [];
  for (let order = 1; order <= ORDERS; order++) {
    const { last } = await withRetries(
      (n) => {
        const { body, headers } = attempt(order, n);
        return send(base, client, 'POST', '/wms/v1/reservations', { json: body, headers });
      },
      { maxAttempts: 6, delayMs: RETRY_DELAY_MS },
    );
    finals.push(last);
  }
  return finals;
}

describe('retries after lost acknowledgements on the WMS (createReservation)', () => {
  it('tells a client that keeps its externalOrderId from one that re-mints it, and from one that mints an Idempotency-Key per attempt', async () => {
    const { url } = await start({ seed: SEED });
    await activate(url, LOSE_RESERVATION_ACKS);

    // keeps the order's externalOrderId on every retry: the WMS answers a repeat with the reservation it made
    const kept = await reserveOrders(url, 'keeps-order-id', (order) => ({ body: { externalOrderId: `KEEP-${order}`, lines: linesOf(order) } }));
    // builds the request afresh for each attempt, with a new externalOrderId (a timestamp, a UUID ...)
    const reminted = await reserveOrders(url, 'remints-order-id', (order, n) => ({ body: { externalOrderId: `REMINT-${order}-${n}`, lines: linesOf(order) } }));
    // keeps the externalOrderId but sends an Idempotency-Key minted per attempt
    const headerMinted = await reserveOrders(url, 'mints-header-key', (order, n) => ({
      body: { externalOrderId: `HDR-${order}`, lines: linesOf(order) },
      headers: { 'idempotency-key': `hdr-${order}-attempt-${n}` },
    }));
    // the same worker, reaching a WMS that never loses an acknowledgement (the rule does not match it): no retries
    const untroubled = await reserveOrders(url, 'untroubled', (order) => ({ body: { externalOrderId: `CALM-${order}`, lines: linesOf(order) } }));
    for (const finals of [kept, reminted, headerMinted, untroubled]) expect(finals.every(succeeded), JSON.stringify(finals.map((f) => f.status))).toBe(true);

    const r = await report(url);
    // every client had acknowledgements lost, so each retried (else the checks could not judge it)
    for (const client of ['keeps-order-id', 'remints-order-id', 'mints-header-key']) {
      const counts = countsOf(r, client, 'createReservation');
      expect(counts.logicalRequests, client).toBe(ORDERS);
      expect(counts.attempts, client).toBeGreaterThan(ORDERS);
    }

    const keeper = { key: checkOf(r, 'keeps-order-id', 'idempotency.keyReused', 'createReservation'), dup: checkOf(r, 'keeps-order-id', 'idempotency.noDuplicateEffects') };
    expect(keeper.key.status, keeper.key.explanation).toBe('pass');
    expect(keeper.dup.status, keeper.dup.explanation).toBe('pass');
    expect(keeper.dup.value).toEqual({ duplicates: 0 });
    // one reservation per order, seen from the WMS itself
    const keptIds = new Set(kept.map((o) => o.body.id));
    expect(keptIds.size).toBe(ORDERS);

    const reminter = { key: checkOf(r, 'remints-order-id', 'idempotency.keyReused', 'createReservation'), dup: checkOf(r, 'remints-order-id', 'idempotency.noDuplicateEffects') };
    expect(reminter.key.status, reminter.key.explanation).toBe('fail');
    expect(reminter.dup.status, reminter.dup.explanation).toBe('fail');
    const duplicates = (reminter.dup.value as { duplicates: number }).duplicates;
    expect(duplicates).toBeGreaterThanOrEqual(1);
    // the evidence names every reservation of a duplicated order and cites the entries that created them
    const records = reminter.dup.evidence.records as Array<{ entity: string; records: string[]; entries: number[] }>;
    const reservations = records.filter((d) => d.entity === 'reservation');
    expect(reservations.reduce((n, d) => n + d.records.length - 1, 0)).toBe(duplicates);
    const journal = await call(`${url}/__admin/journal?system=wms&limit=1000`);
    expect(journal.status).toBe(200);
    const entryById = new Map<number, any>(journal.body.entries.map((e: any) => [e.id, e]));
    for (const d of reservations) {
      expect(d.records.length).toBeGreaterThanOrEqual(2);
      for (const id of d.records) expect(id).toMatch(/^RES-\d+$/);
      expect(d.entries).toHaveLength(d.records.length);
      d.records.forEach((id, i) => {
        const entry = entryById.get(d.entries[i]);
        expect(entry, `journal entry ${d.entries[i]}`).toBeDefined();
        expect(entry.client).toBe('remints-order-id');
        expect(entry.effects).toContainEqual({ entity: 'reservation', id, action: 'created' });
        expect(reminter.dup.evidence.entries).toContain(d.entries[i]);
      });
      // both reservations exist in the WMS: the duplicate is real
      for (const id of d.records) expect((await call(`${url}/wms/v1/reservations/${id}`)).status).toBe(200);
      expect(reminter.dup.explanation).toContain(d.records[0]);
    }

    const headerMinter = { key: checkOf(r, 'mints-header-key', 'idempotency.keyReused', 'createReservation'), dup: checkOf(r, 'mints-header-key', 'idempotency.noDuplicateEffects') };
    expect(headerMinter.key.status, headerMinter.key.explanation).toBe('fail');
    // the WMS deduplicated on externalOrderId, so nothing was created twice
    expect(headerMinter.dup.status, headerMinter.dup.explanation).toBe('pass');
    expect(headerMinter.dup.value).toEqual({ duplicates: 0 });
    expect(new Set(headerMinted.map((o) => o.body.id)).size).toBe(ORDERS);

    // nothing retried: nothing to judge, for either check
    expect(countsOf(r, 'untroubled', 'createReservation')).toEqual({ attempts: ORDERS, logicalRequests: ORDERS });
    for (const id of ['idempotency.keyReused', 'idempotency.noDuplicateEffects']) {
      const check = checkOf(r, 'untroubled', id);
      expect(check.status, check.explanation).toBe('n/a');
      expect(check.explanation).toMatch(/retried no unsafe request/);
    }
  });
});

/** Stripe's form encoding of a charge for order n */
const chargeForm = (n: number) => new URLSearchParams({ amount: '2500', currency: 'usd', payment_method: 'pm_card_visa', description: `Order ${n}`, 'metadata[order_id]': `ORD-${n}` }).toString();

/** A charging worker; `keyOf` gives attempt n's Idempotency-Key header (none when it gives undefined). */
async function chargeOrders(base: string, client: string, keyOf: (order: number, n: number) => string | undefined): Promise<Outcome[]> {
  const finals: Outcome[] = [];
  for (let order = 1; order <= ORDERS; order++) {
    const { last } = await withRetries((n) => {
      const key = keyOf(order, n);
      return send(base, client, 'POST', '/payments/v1/charges', { form: chargeForm(order), headers: key === undefined ? {} : { 'idempotency-key': key } });
    }, {
      maxAttempts: 6,
      delayMs: RETRY_DELAY_MS,
    });
    finals.push(last);
  }
  return finals;
}

describe('retries after lost acknowledgements on the payment gateway (createCharge)', () => {
  it('finds the double charges of a client that mints a new Idempotency-Key per retry and of one that sends none, and none for one that keeps it', async () => {
    const { url } = await start({ seed: SEED });
    await activate(url, LOSE_CHARGE_ACKS);

    const kept = await chargeOrders(url, 'keeps-charge-key', (order) => `charge-${order}`);
    const minted = await chargeOrders(url, 'mints-charge-key', (order, n) => `charge-${order}-try-${n}`);
    // sends no Idempotency-Key at all: only metadata[order_id] (the same on every retry) says which order it is
    const keyless = await chargeOrders(url, 'no-charge-key', () => undefined);
    for (const finals of [kept, minted, keyless]) expect(finals.every(succeeded), JSON.stringify(finals.map((f) => f.status))).toBe(true);

    const r = await report(url);
    for (const client of ['keeps-charge-key', 'mints-charge-key', 'no-charge-key']) {
      const counts = countsOf(r, client, 'createCharge');
      expect(counts.logicalRequests, client).toBe(ORDERS);
      expect(counts.attempts, client).toBeGreaterThan(ORDERS);
    }

    const keeperKey = checkOf(r, 'keeps-charge-key', 'idempotency.keyReused', 'createCharge');
    const keeperDup = checkOf(r, 'keeps-charge-key', 'idempotency.noDuplicateEffects');
    expect(keeperKey.status, keeperKey.explanation).toBe('pass');
    expect(keeperDup.status, keeperDup.explanation).toBe('pass');
    expect(keeperDup.value).toEqual({ duplicates: 0 });

    const minterKey = checkOf(r, 'mints-charge-key', 'idempotency.keyReused', 'createCharge');
    const minterDup = checkOf(r, 'mints-charge-key', 'idempotency.noDuplicateEffects');
    expect(minterKey.status, minterKey.explanation).toBe('fail');
    expect(minterDup.status, minterDup.explanation).toBe('fail');
    expect(minterDup.explanation).toMatch(/Reuse the same idempotency key/);
    const duplicates = (minterDup.value as { duplicates: number }).duplicates;
    expect(duplicates).toBeGreaterThanOrEqual(1);
    const charges = (minterDup.evidence.records as Array<{ entity: string; records: string[] }>).filter((d) => d.entity === 'charge');
    expect(charges.reduce((n, d) => n + d.records.length - 1, 0)).toBe(duplicates);
    for (const d of charges) for (const id of d.records) expect(id).toMatch(/^ch_/);

    // the gateway deduplicates on the Idempotency-Key header only: the same order_id on every retry did not help,
    // and the advice says what would have
    const keylessDup = checkOf(r, 'no-charge-key', 'idempotency.noDuplicateEffects');
    expect(keylessDup.status, keylessDup.explanation).toBe('fail');
    expect((keylessDup.value as { duplicates: number }).duplicates).toBeGreaterThanOrEqual(1);
    expect(keylessDup.explanation).toMatch(/kept one key each \(e\.g\. ORD-\d+\), but sent no Idempotency-Key header/);

    // the gateway's own duplicate finder agrees: the minter's and the keyless client's charges were doubled
    const found = await call(`${url}/__admin/payments/duplicates`);
    expect(found.status).toBe(200);
    expect(found.body.duplicates.length).toBeGreaterThanOrEqual(2);
    expect(new Set(found.body.duplicates.map((d: any) => d.client))).toEqual(new Set(['mints-charge-key', 'no-charge-key']));
  });
});
