/**
 * What the foundation left out (issue #14 §1, "Still missing"): deepObject query parameters read as OpenAPI writes
 * them (`filter[tag]=dog&filter[minAge]=2` is one object, its values coerced by its schema), and response headers
 * checked against the contract — generated from their schemas for generated operations, and recorded in the
 * journal as contract errors when a reply (a chaos fault's, say) breaks them.
 */
import { describe, expect, it } from 'vitest';
import { call, start } from '../../helpers.js';

const PETSTORE = new URL('../../fixtures/third-party/petstore-expanded.openapi.yaml', import.meta.url).pathname;
const OFF = { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } } as const;

describe('deepObject query parameters and response headers', () => {
  it('reads filter[tag]=dog&filter[minAge]=2 as one object, validated by its schema', async () => {
    const s = await start({ contracts: [`${PETSTORE}@/api`], systems: OFF });
    expect((await call(`${s.url}/api/pets?filter[tag]=dog&filter[minAge]=2`)).status).toBe(200);
    expect((await call(`${s.url}/api/pets?filter%5Btag%5D=dog`)).status).toBe(200);
    // findPets declares its 400 as XML: every problem listed there
    const bad = await call(`${s.url}/api/pets?filter[minAge]=old&filter[colour]=brown`);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('<faultString>The request does not match the contract (2 problems in query).</faultString>');
    s.engine.flush();
    const [entry] = (await call(`${s.url}/__admin/journal?limit=1`)).body.entries;
    expect(entry.contract.errors.map((e: { name: string; message: string }) => `${e.name}: ${e.message}`).sort()).toEqual(['filter: is not a property of filter', 'filter: must be integer']);
    expect(entry.contract.errors).toEqual(expect.arrayContaining([{ in: 'query', name: 'filter', pointer: '/colour', message: 'is not a property of filter' }]));
  });

  it('generates the response headers a generated operation declares, and the journal finds them conforming', async () => {
    const s = await start({ contracts: [`${PETSTORE}@/api`], systems: OFF });
    const r = await call(`${s.url}/api/pets`);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-rate-limit-remaining')).toMatch(/^\d+$/);
    expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    s.engine.flush();
    const [entry] = (await call(`${s.url}/__admin/journal?operation=findPets`)).body.entries;
    expect(entry.contract).toEqual({ valid: true, errors: [] });
  });

  it('records a reply whose headers break the contract, without changing it', async () => {
    const s = await start({ contracts: [`${PETSTORE}@/api`], systems: OFF });
    const system = s.engine.systems.find((x) => x.name === 'api')!;
    const operation = system.engine.operations!.find((o) => o.id === 'findPets')!;
    const exchange = { operation, contractErrors: [] as Array<{ in: string; name?: string; message: string }> };
    const check = (headers: Record<string, string>) => {
      exchange.contractErrors.length = 0;
      system.engine.checkResponse(exchange as never, { status: 200, headers: { 'content-type': 'application/json', ...headers }, body: '[]' });
      return exchange.contractErrors.map((e) => `${e.in} ${e.message}`);
    };
    expect(check({ 'x-rate-limit-remaining': '7' })).toEqual([]);
    expect(check({ 'x-rate-limit-remaining': 'lots', 'x-request-id': 'not-a-uuid' }).sort()).toEqual([
      'response header x-rate-limit-remaining: must be integer',
      'response header x-request-id: must match format "uuid"',
    ]);
    expect(check({})).toEqual([expect.stringMatching(/^response header .*x-rate-limit-remaining/)]);
  });
});
