/**
 * kill -9 under concurrent writes, several rounds on one data directory. After each restart:
 * - every acknowledged reservation is there, in the state its last acknowledged change left it;
 * - nothing half-exists: the stock every SKU holds reserved is exactly what its active reservations hold, and
 *   every reservation present was at least attempted (a write committed just before the kill, whose reply never
 *   left, may exist, whole);
 * - the change feed continues from a cursor handed out before the kill, with every acknowledged reservation made
 *   after that cursor;
 * - the journal holds every acknowledged exchange older than the batch window (250 ms; 250 ms more are allowed
 *   for the timer to run late on a loaded machine).
 * The kill moment is not a sleep: each round runs traffic until a seeded share of a second has passed since its
 * first acknowledgement (at least the journal window), and kills mid-traffic.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/util/seeded-random.js';
import { serveProcess } from '../helpers.js';

const ROUNDS = 4;
const WORKERS = 12;
const SKUS = 100;
const JOURNAL_WINDOW_MS = 250 + 250;

interface Acknowledged {
  id: string;
  externalOrderId: string;
  sku: string;
  quantity: number;
  status: 'active' | 'released';
  /** performance.now() when the request was sent and when its reply arrived */
  sentAt: number;
  at: number;
  /** the round it was made in: the kill that ended that round is what it must be older than */
  round: number;
}


async function getJson(url: string): Promise<any> {
  const r = await fetch(url);
  expect(r.status, url).toBe(200);
  return r.json();
}

async function pages<T>(first: string, itemsOf: (body: any) => T[], next: (body: any) => string | null): Promise<T[]> {
  const all: T[] = [];
  for (let url: string | null = first; url; ) {
    const body = await getJson(url);
    all.push(...itemsOf(body));
    const n = next(body);
    url = n === null ? null : n;
  }
  return all;
}

describe('kill -9 under concurrent writes', () => {
  it(`loses nothing acknowledged over ${ROUNDS} rounds`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-kill-'));
    const random = seededRandom(2026, 'kill-9');
    const acknowledged = new Map<string, Acknowledged>();
    const attempted = new Set<string>();
    let orderNumber = 0;
    let feedCursor: { cursor: string; at: number } | undefined;
    const killedAt: number[] = [];

    for (let round = 0; round <= ROUNDS; round++) {
      const server = await serveProcess(dir, 5);
      const base = server.url;

      // --- what the previous rounds acknowledged is all there --------------------------------------------
      const present = await pages(
        `${base}/wms/v1/reservations?limit=200`,
        (b) => b.reservations as Array<{ id: string; externalOrderId: string; status: string; lines: Array<{ sku: string; quantity: number }> }>,
        (b) => (b.nextCursor ? `${base}/wms/v1/reservations?limit=200&cursor=${b.nextCursor}` : null),
      );
      const byOrder = new Map(present.map((r) => [r.externalOrderId, r]));
      for (const ack of acknowledged.values()) {
        const found = byOrder.get(ack.externalOrderId);
        expect(found, `acknowledged ${ack.externalOrderId}`).toBeDefined();
        expect(found!.id).toBe(ack.id);
        // released is final; an active one may have been released by a request whose reply the kill swallowed
        if (ack.status === 'released') expect(found!.status).toBe('released');
        expect(found!.lines.map((l) => [l.sku, l.quantity])).toEqual([[ack.sku, ack.quantity]]);
      }
      for (const r of present) expect(attempted.has(r.externalOrderId), `${r.externalOrderId} was never sent`).toBe(true);
      // nothing half-exists: reserved stock is exactly what active reservations hold
      for (let s = 1; s <= SKUS; s++) {
        const sku = `SKU-${s}`;
        const held = present.filter((r) => r.status === 'active').flatMap((r) => r.lines.filter((l) => l.sku === sku)).reduce((n, l) => n + l.quantity, 0);
        expect((await getJson(`${base}/wms/v1/inventory/${sku}`)).reserved, sku).toBe(held);
      }
      // the change feed continues from a cursor handed out before the kill
      if (feedCursor) {
        const changed = await pages(
          `${base}/wms/v1/changes?limit=500&cursor=${feedCursor.cursor}`,
          (b) => b.changes as Array<{ entity: string; id: string }>,
          (b) => (b.hasMore ? `${base}/wms/v1/changes?limit=500&cursor=${b.nextCursor}` : null),
        );
        const reservationsInFeed = new Set(changed.filter((c) => c.entity === 'reservation').map((c) => c.id));
        // sent after the cursor came back: made after it, so after it in the feed
        const after = [...acknowledged.values()].filter((a) => a.sentAt > feedCursor!.at);
        for (const ack of after) expect(reservationsInFeed.has(ack.id), `${ack.id} after the cursor`).toBe(true);
      }
      // the journal holds every acknowledged creation older than the batch window
      if (round > 0) {
        const journaled = new Set(
          (
            await pages(
              `${base}/__admin/journal?limit=1000&operation=createReservation&status=201`,
              (b) => b.entries as Array<{ key: string }>,
              (b) => (b.nextCursor ? `${base}/__admin/journal?limit=1000&operation=createReservation&status=201&cursor=${b.nextCursor}` : null),
            )
          ).map((e) => e.key),
        );
        const old = [...acknowledged.values()].filter((a) => a.at < killedAt[a.round] - JOURNAL_WINDOW_MS);
        expect(old.length).toBeGreaterThan(0);
        for (const ack of old) expect(journaled.has(ack.externalOrderId), `journal entry of ${ack.externalOrderId}`).toBe(true);
      }
      if (round === ROUNDS) {
        server.child.kill('SIGTERM');
        await server.exited;
        break;
      }

      // --- traffic, then kill -9 after a seeded number of acknowledgements -----------------------------------
      const killAfterMs = JOURNAL_WINDOW_MS + Math.floor(random() * 700);
      let firstAckAt = 0;
      let acksThisRound = 0;
      let killed = false;
      const kill = () => {
        if (killed) return;
        killed = true;
        killedAt[round] = performance.now();
        server.child.kill('SIGKILL');
      };
      const worker = async (w: number) => {
        const next = seededRandom(2026, 'worker', round, w);
        while (!killed) {
          const mine = [...acknowledged.values()].filter((a) => a.status === 'active' && a.externalOrderId.endsWith(`-w${w}`));
          try {
            if (mine.length > 0 && next() < 0.3) {
              const victim = mine[Math.floor(next() * mine.length)];
              const r = await fetch(`${base}/wms/v1/reservations/${victim.id}`, { method: 'DELETE' });
              if (r.status === 200) victim.status = 'released';
              else expect(r.status).toBe(200);
            } else {
              const externalOrderId = `SO-${++orderNumber}-w${w}`;
              const sku = `SKU-${1 + Math.floor(next() * SKUS)}`;
              const quantity = 1 + Math.floor(next() * 3);
              attempted.add(externalOrderId);
              const sentAt = performance.now();
              const r = await fetch(`${base}/wms/v1/reservations`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ externalOrderId, lines: [{ sku, quantity }] }),
              });
              const body = (await r.json()) as { id: string; type?: string };
              // out of stock is an answer, not an acknowledgement of a reservation
              if (r.status === 409 && body.type?.endsWith('insufficient-stock')) continue;
              if (r.status !== 201) throw new Error(`reservation refused: ${r.status} ${JSON.stringify(body)}`);
              acknowledged.set(externalOrderId, { id: body.id, externalOrderId, sku, quantity, status: 'active', sentAt, at: performance.now(), round });
            }
            if (acksThisRound++ === 0) firstAckAt = performance.now();
            if (performance.now() - firstAckAt >= killAfterMs) kill();
            // a cursor now and then, to resume from after the restart
            if (w === 0 && acksThisRound % 25 === 0) {
              const cursor = await latestCursor(base, feedCursor?.cursor);
              if (!killed) feedCursor = { cursor, at: performance.now() };
            }
          } catch (err) {
            // the kill: a reply that never came is not an acknowledgement
            if (!killed) throw err;
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
      await server.exited;
    }
    expect(acknowledged.size).toBeGreaterThan(ROUNDS * 20);
  }, 120_000);
});

/** The feed's cursor at its end right now (paging from `cursor`, or from the start). */
async function latestCursor(base: string, cursor: string | undefined): Promise<string> {
  for (;;) {
    const page = await getJson(`${base}/wms/v1/changes?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    cursor = page.nextCursor as string;
    if (!page.hasMore) return cursor;
  }
}
