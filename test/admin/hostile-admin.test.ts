/**
 * Admin writes with bodies that are not the JSON they expect (PRODUCT.md §5): a form-encoded or plain-text reset,
 * JSON of the wrong shape, unparseable or non-UTF-8 bytes, a body over the limit, a compression bomb, deep
 * nesting. Each must be refused (415 for a non-JSON media type, 400 for the wrong JSON, 413 for too much) and must
 * change nothing: a reservation made before is still there, stock still reserved, its journal entry still listed.
 * Only an empty body, or an explicit scope, resets.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { call, json, rawRequest, start } from '../helpers.js';

const ORDER = { externalOrderId: 'SO-1', lines: [{ sku: 'SKU-1', quantity: 2 }] };

/** A server with one reservation of 2 × SKU-1 in workspace `ws` ('' for the default one); its id. */
async function withReservation(s: RunningServer, ws = ''): Promise<string> {
  const made = await call(`${s.url}${ws}/wms/v1/reservations`, json(ORDER));
  expect(made.status).toBe(201);
  return made.body.id;
}

/** Everything a reset would wipe is still there: the reservation, the reserved stock, the journal entry. */
async function expectIntact(s: RunningServer, id: string, ws = '', label = ''): Promise<void> {
  const reservation = await call(`${s.url}${ws}/wms/v1/reservations/${id}`);
  expect(reservation.status, label).toBe(200);
  expect(reservation.body.status, label).toBe('active');
  const inventory = await call(`${s.url}${ws}/wms/v1/inventory/SKU-1`);
  expect(inventory.body.reserved, label).toBe(2);
  const journal = await call(`${s.url}${ws}/__admin/journal?operation=createReservation`);
  expect(journal.body.entries.map((e: { status: number }) => e.status), label).toEqual([201]);
}

function post(s: RunningServer, path: string, body: string | Buffer, headers: Record<string, string | number>) {
  return rawRequest(s.url, path, { method: 'POST', headers: { 'content-length': Buffer.byteLength(body), ...headers }, body });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

describe('admin writes refuse bodies that are not the JSON they expect', () => {
  it('refuses a reset sent as a form, as text or with no content type (415), and changes nothing', async () => {
    const s = await start();
    const id = await withReservation(s);
    const cases: Array<[string, string, Record<string, string>]> = [
      // what `curl -XPOST .../__admin/reset -d '{"scope":"journal"}'` sends
      ['curl -d', '{"scope":"journal"}', FORM],
      ['text/plain', 'all', { 'content-type': 'text/plain' }],
      ['no content-type', '{"scope":"journal"}', {}],
      ['xml', '<reset scope="all"/>', { 'content-type': 'application/xml' }],
    ];
    for (const [label, body, headers] of cases) {
      const r = await post(s, '/__admin/reset', body, headers);
      expect(r.status, label).toBe(415);
      expect(r.headers.get('content-type'), label).toMatch(/^application\/problem\+json/);
      expect(r.body.detail, label).toMatch(/Admin writes take JSON.*Nothing was changed/);
      await expectIntact(s, id, '', label);
    }
  });

  it('refuses JSON of the wrong shape (400), and changes nothing', async () => {
    const s = await start();
    const id = await withReservation(s);
    const cases: Array<[string, RegExp]> = [
      ['[]', /must be a JSON object/],
      ['"all"', /must be a JSON object/],
      ['null', /must be a JSON object/],
      ['5', /must be a JSON object/],
      ['{"scope":5}', /scope must be one of all, state, journal, chaos/],
      ['{"scope":"everything"}', /scope must be one of/],
      ['{"scope":"ALL"}', /scope must be one of/],
      ['{"scope":"journal","force":true}', /Unknown field "force"/],
      ['{"Scope":"journal"}', /Unknown field "Scope"/],
      ['{}', /Name the scope/],
      ['{scope', /not valid JSON/],
      ['{"scope":"journal"', /not valid JSON/],
    ];
    for (const [body, message] of cases) {
      const r = await post(s, '/__admin/reset', body, JSON_TYPE);
      expect(r.status, body).toBe(400);
      expect(r.body.detail, body).toMatch(message);
      expect(r.body.detail, body).toMatch(/Nothing was (reset|changed)\.$/);
      await expectIntact(s, id, '', body);
    }
  });

  it('refuses absurd bodies: 2 MB, a compression bomb, invalid UTF-8, deep nesting, a foreign charset', async () => {
    const s = await start();
    const id = await withReservation(s);
    const twoMb = `{"scope":"journal","pad":"${'x'.repeat(2 * 1024 * 1024)}"}`;
    expect((await post(s, '/__admin/reset', twoMb, JSON_TYPE)).status).toBe(413);
    expect((await post(s, '/__admin/reset', twoMb, FORM)).status).toBe(415);
    // 5 MB of JSON squeezed into a few KB: the limit applies to what it inflates to
    const bomb = gzipSync(Buffer.from(`{"scope":"journal","pad":"${' '.repeat(5 * 1024 * 1024)}"}`));
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect((await post(s, '/__admin/reset', bomb, { ...JSON_TYPE, 'content-encoding': 'gzip' })).status).toBe(413);

    const notUtf8 = Buffer.concat([Buffer.from('{"scope":"jour'), Buffer.from([0xff, 0xfe]), Buffer.from('nal"}')]);
    const bad = await post(s, '/__admin/reset', notUtf8, JSON_TYPE);
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/not valid UTF-8/);

    const deep = `{"scope":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    const nested = await post(s, '/__admin/reset', deep, JSON_TYPE);
    expect(nested.status).toBe(400);
    expect(nested.body.detail).toMatch(/scope must be one of/);

    const latin1 = await post(s, '/__admin/reset', '{"scope":"all"}', { 'content-type': 'application/json; charset=latin1' });
    expect(latin1.status).toBe(415);

    await expectIntact(s, id);
    // and the server still serves traffic and admin reads
    expect((await call(`${s.url}/__admin/health`)).status).toBe(200);
  });

  it('resets on an empty body or an explicit scope, and only that scope', async () => {
    const s = await start();
    let id = await withReservation(s);
    const journalOnly = await post(s, '/__admin/reset', '{"scope":"journal"}', { 'content-type': 'application/json; charset=utf-8' });
    expect(journalOnly.body).toEqual({ workspace: 'default', reset: 'journal' });
    expect((await call(`${s.url}/wms/v1/reservations/${id}`)).body.status).toBe('active');
    expect((await call(`${s.url}/__admin/journal?operation=createReservation`)).body.entries).toEqual([]);

    // no body at all
    expect((await call(`${s.url}/__admin/reset`, { method: 'POST' })).body).toEqual({ workspace: 'default', reset: 'all' });
    expect((await call(`${s.url}/wms/v1/reservations/${id}`)).status).toBe(404);

    // content-length 0 is an empty body whatever its content type says
    id = await withReservation(s);
    expect((await post(s, '/__admin/reset', '', FORM)).body).toEqual({ workspace: 'default', reset: 'all' });
    expect((await call(`${s.url}/wms/v1/inventory/SKU-1`)).body.reserved).toBe(0);

    id = await withReservation(s);
    expect((await post(s, '/__admin/reset', '{"scope":"state"}', { 'content-type': 'application/vnd.understudy+json' })).body.reset).toBe('state');
    expect((await call(`${s.url}/wms/v1/reservations/${id}`)).status).toBe(404);
  });

  it('applies the same rule in a workspace and to deleting one', async () => {
    const s = await start();
    const id = await withReservation(s, '/w/ci-1');
    expect((await post(s, '/w/ci-1/__admin/reset', '{"scope":"journal"}', FORM)).status).toBe(415);
    expect((await post(s, '/w/ci-1/__admin/reset', '[]', JSON_TYPE)).status).toBe(400);
    await expectIntact(s, id, '/w/ci-1');

    const form = await rawRequest(s.url, '/w/ci-1/__admin/workspace', { method: 'DELETE', headers: { ...FORM, 'content-length': 7 }, body: 'confirm' });
    expect(form.status).toBe(415);
    await expectIntact(s, id, '/w/ci-1');
    expect((await call(`${s.url}/__admin/workspaces`)).body.workspaces.map((w: { name: string }) => w.name)).toContain('ci-1');
    // the same delete without a body goes through
    expect((await call(`${s.url}/w/ci-1/__admin/workspace`, { method: 'DELETE' })).body).toEqual({ deleted: 'ci-1' });
  });
});
