/**
 * Schema edge cases of user contracts (issue #14 §1): OpenAPI 3.0.3's `nullable` where ajv cannot take it as it
 * is — beside a `$ref`, on an `allOf`, without a `type` — no longer leaves the whole schema unvalidated: null is
 * accepted where the contract allows it and everything else is still checked; and `writeOnly` properties never
 * appear in generated responses.
 */
import { describe, expect, it } from 'vitest';
import { call, json, start } from '../../helpers.js';

const FEATURES = new URL('../../fixtures/third-party/nullable-features.openapi.yaml', import.meta.url).pathname;
const OFF = { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } } as const;

describe('schema edge cases', () => {
  it('nullable without a type: compiled, null accepted where allowed, the rest of the schema still validated', async () => {
    const s = await start({ contracts: [`${FEATURES}@/features`], systems: OFF });
    expect(await s.ready).toEqual([]);
    const post = (body: unknown) => call(`${s.url}/features/orders`, { method: 'POST', ...json(body) });
    expect((await post({ quantity: 1, shipTo: null, note: null, priority: null, example: null })).status).toBe(201);
    expect((await post({ quantity: 1, shipTo: { city: 'Rotterdam' }, note: 'leave at the door', priority: 'high', example: 3 })).status).toBe(201);
    const bad = await post({ quantity: 0, shipTo: { city: '' }, billTo: null, priority: 'urgent', example: 'x', extra: true });
    expect(bad.status).toBe(400);
    const pointers = bad.body.errors.map((e: { pointer: string }) => e.pointer).sort();
    expect(pointers).toEqual(expect.arrayContaining(['/quantity', '/shipTo/city', '/billTo', '/priority', '/example', '/extra']));
  });

  it('leaves writeOnly properties out of generated responses', async () => {
    const s = await start({ contracts: [`${FEATURES}@/features`], systems: OFF });
    for (const id of ['u1', 'u2', 'u3']) {
      const user = await call(`${s.url}/features/users/${id}`);
      expect(user.status).toBe(200);
      expect(Object.keys(user.body).sort()).toEqual(['id', 'name']);
    }
  });
});
