/**
 * Taking turns under load (src/transports/turn-queue.ts): at most TURN_BUDGET requests per event-loop turn, the
 * rest first come first served in later turns, later arrivals behind those who waited, shorter turns while
 * connections arrive; and, through real sockets, a burst of simultaneous connections all answered.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TURN_BUDGET, TURN_BUDGET_WHILE_CONNECTING, TurnQueue } from '../../src/transports/turn-queue.js';
import { start } from '../helpers.js';

/** resolves at the end of the current event-loop turn (after the queue's own setImmediate, queued earlier) */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnQueue', () => {
  it('runs up to the budget at once, the rest in later turns, in arrival order', async () => {
    const ran: number[] = [];
    const queue = new TurnQueue<number>((n) => ran.push(n));
    for (let i = 0; i < TURN_BUDGET * 2 + 5; i++) queue.admit(i);
    expect(ran).toEqual([...Array(TURN_BUDGET).keys()]);
    expect(queue.length).toBe(TURN_BUDGET + 5);

    await endOfTurn();
    expect(ran.length).toBe(TURN_BUDGET * 2);
    // a request arriving now queues behind those still waiting, although this turn's budget is not spent
    queue.admit(1000);
    await endOfTurn();
    expect(ran).toEqual([...[...Array(TURN_BUDGET * 2 + 5).keys()], 1000]);
    expect(queue.length).toBe(0);
  });

  it('handles a request at once when nobody waits (no delay below saturation)', async () => {
    const ran: string[] = [];
    const queue = new TurnQueue<string>((s) => ran.push(s));
    queue.admit('a');
    expect(ran).toEqual(['a']);
    await endOfTurn();
    await endOfTurn();
    queue.admit('b');
    expect(ran).toEqual(['a', 'b']);
  });

  it('shortens the turns that follow an accepted connection', async () => {
    const ran: number[] = [];
    const queue = new TurnQueue<number>((n) => ran.push(n));
    for (let i = 0; i < TURN_BUDGET + 20; i++) queue.admit(i);
    queue.connection();
    await endOfTurn();
    expect(ran.length).toBe(TURN_BUDGET + TURN_BUDGET_WHILE_CONNECTING);
    await endOfTurn();
    expect(ran.length).toBe(TURN_BUDGET + 20); // no new connection: a full turn again
  });
});

describe('a burst of connections', () => {
  it('answers every one of 600 connections opened at once', async () => {
    const s = await start();
    const { port } = new URL(s.url);
    const answers = await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(Number(port), '127.0.0.1', () => socket.write(`GET /wms/v1/inventory/SKU-${(i % 50) + 1} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
          let text = '';
          socket.on('data', (c) => (text += c));
          socket.on('end', () => resolve(text.slice(0, 12)));
          socket.on('error', reject);
        }),
      ),
    );
    expect(answers.every((a) => a === 'HTTP/1.1 200')).toBe(true);
  });
});
