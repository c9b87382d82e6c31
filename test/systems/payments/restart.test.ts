/**
 * The gateway is durable: customers, payment methods, charges (failed ones too), refunds, the ledger and the
 * stored idempotency keys with their first answers live in the workspace's store. A server killed with SIGKILL
 * and started again replays a retry with `Idempotent-Replayed: true` and the very same body, whether the first
 * answer was a 201, a decline or a 500; a capture pending at the kill settles after the restart and its webhook
 * is sent; and no file of the data directory holds a card number that was sent to POST /payment_methods.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Sink } from '../../deliveries/sink.js';
import { call, json, serveProcess } from '../../helpers.js';
import { charges, get, ledger, order, post } from './http-support.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

async function serve(dir: string, config: string) {
  const s = await serveProcess(dir, 21, ['--config', config]);
  children.push(s.child);
  return s;
}

/** every file under dir, as bytes */
function filesUnder(dir: string): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push([path, readFileSync(path)]);
  }
  return out;
}

describe('the gateway across a SIGKILL', () => {
  it('replays stored answers after the restart, settles the pending capture, and never stored a card number', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-payments-'));
    const config = join(dir, '..', `understudy-payments-${process.pid}.yaml`);
    // a capture settles a second after it starts: long enough to kill the server first, short enough for the test
    writeFileSync(config, 'systems:\n  payments: { captureDelay: 1s }\n');
    const hooks = await Sink.start();

    const first = await serve(dir, config);
    const url = first.url;
    expect((await call(`${url}/__admin/subscriptions`, json({ url: hooks.url, events: ['charge.*'], secret: 'whsec_k9' }))).status).toBe(201);
    const customer = await post(url, '/customers', { name: 'Jenny Rosen', email: 'jenny@example.com' }, { key: 'cus-1' });
    const card = await post(url, '/payment_methods', { type: 'card', card: { number: '4242 4242 4242 4242', exp_month: 12, exp_year: 2031, cvc: '314' } }, { key: 'pm-1' });
    expect(card.status).toBe(201);
    expect(card.body.card).toMatchObject({ brand: 'visa', last4: '4242' });
    const answers = {
      charged: await post(url, '/charges', order(1, { customer: customer.body.id, payment_method: card.body.id }), { key: 'ch-1' }),
      declined: await post(url, '/charges', order(2, { payment_method: 'pm_card_lostCard' }), { key: 'ch-2' }),
      broken: await post(url, '/charges', order(3, { payment_method: 'pm_card_apiError' }), { key: 'ch-3' }),
      authorized: await post(url, '/charges', order(4, { capture: false }), { key: 'ch-4' }),
    };
    expect(Object.values(answers).map((a) => a.status)).toEqual([201, 402, 500, 201]);
    // a card number sent where no operation takes one (a mistyped route) is kept out of the journal all the same
    const stray = await call(`${url}/payments/v1/payment_method`, json({ card: { number: '4242 4242 4242 4242', cvc: '314' } }));
    expect(stray.status).toBe(404);
    const refund = await post(url, '/refunds', { charge: answers.charged.body.id, amount: 500 }, { key: 're-1' });
    expect(refund.status).toBe(201);
    const capture = await post(url, `/charges/${answers.authorized.body.id}/capture`, undefined, { key: 'cap-1' });
    expect(capture.status).toBe(202);
    const before = { charges: await charges(url), ledger: await ledger(url) };
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await serve(dir, config);
    const again = second.url;
    // every retry gets its first answer back, byte for byte
    const retries: Array<[string, string, unknown, string, { status: number; text: string }]> = [
      ['/customers', 'cus-1', { name: 'Jenny Rosen', email: 'jenny@example.com' }, 'customer', customer],
      ['/payment_methods', 'pm-1', { type: 'card', card: { number: '4242 4242 4242 4242', exp_month: 12, exp_year: 2031, cvc: '314' } }, 'payment method', card],
      ['/charges', 'ch-1', order(1, { customer: customer.body.id, payment_method: card.body.id }), 'charge', answers.charged],
      ['/charges', 'ch-2', order(2, { payment_method: 'pm_card_lostCard' }), 'decline', answers.declined],
      ['/charges', 'ch-3', order(3, { payment_method: 'pm_card_apiError' }), '500', answers.broken],
      ['/refunds', 're-1', { charge: answers.charged.body.id, amount: 500 }, 'refund', refund],
      [`/charges/${answers.authorized.body.id}/capture`, 'cap-1', undefined, 'capture', capture],
    ];
    for (const [path, key, body, what, original] of retries) {
      const replay = await post(again, path, body, { key });
      expect(replay.status, what).toBe(original.status);
      expect(replay.headers.get('idempotent-replayed'), what).toBe('true');
      expect(replay.text, what).toBe(original.text);
    }
    // the other parameters rule survived too
    expect((await post(again, '/charges', order(1, { amount: 1 }), { key: 'ch-1' })).body.error?.type).toBe('idempotency_error');

    // the capture pending at the kill settles, and its webhook is sent by the new process
    await hooks.waitFor((got) => got.some((r) => r.event.type === 'charge.succeeded' && r.event.data.object.id === answers.authorized.body.id && r.event.data.object.captured), 'the settled capture');
    const settled = await vi.waitFor(async () => {
      const c = (await get(again, `/charges/${answers.authorized.body.id}`)).body;
      expect(c.status).toBe('succeeded');
      return c;
    });
    expect(settled).toMatchObject({ captured: true, amount_captured: 4999 });
    // nothing else changed: the same charges (the one pending now settled), the ledger plus the capture
    const after = { charges: await charges(again), ledger: await ledger(again) };
    expect(after.charges.map((c) => c.id)).toEqual(before.charges.map((c) => c.id));
    expect(after.ledger.slice(1)).toEqual(before.ledger);
    expect(after.ledger[0]).toMatchObject({ type: 'capture', charge: answers.authorized.body.id, amount: 4999 });
    second.child.kill('SIGKILL');
    await second.exited;

    // the card number and CVC were never written anywhere: not in the write log, the snapshots or the journal
    const files = filesUnder(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const [path, bytes] of files) {
      for (const secret of ['4242 4242 4242 4242', '4242424242424242', '"cvc":"314"']) {
        expect(bytes.includes(Buffer.from(secret)), `${path} holds ${secret}`).toBe(false);
      }
    }
  });
});
