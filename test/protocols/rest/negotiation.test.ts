/**
 * Content negotiation for generated responses (issue #14 §1, "Content negotiation"), on a document shaped like the
 * Swagger Petstore "expanded" example: the media type is picked from Accept (q-values, wildcards) among the declared
 * ones, JSON first among equals and without an Accept; XML is written from the schema and its `xml` objects (names,
 * attributes, wrapped arrays); text/plain from a string example; nothing declared fits → 406 naming what is.
 */
import { describe, expect, it } from 'vitest';
import { call, start } from '../../helpers.js';

const PETSTORE = new URL('../../fixtures/third-party/petstore-expanded.openapi.yaml', import.meta.url).pathname;
const OFF = { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } } as const;
const APEX_DEFAULT_ACCEPT = 'text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2';

describe('the media type of a generated response', () => {
  it('follows Accept among the declared types; JSON without one, and for Apex\'s default Accept', async () => {
    const s = await start({ contracts: [`${PETSTORE}@/api`], systems: OFF });
    const card = (accept?: string) => call(`${s.url}/api/pets/7/card`, accept ? { headers: { accept } } : {});
    for (const accept of [undefined, '*/*', APEX_DEFAULT_ACCEPT, 'application/json']) {
      const r = await card(accept);
      expect(r.headers.get('content-type'), String(accept)).toBe('application/json');
      expect(Object.keys(r.body).sort()).toEqual(['id', 'name', 'tags']);
    }
    const xml = await card('application/xml;q=0.9, application/json;q=0.5');
    expect(xml.status).toBe(200);
    expect(xml.headers.get('content-type')).toBe('application/xml');
    // the schema's xml objects: the root's name, id as an attribute, the tags wrapped, each a <tag>
    expect(xml.text).toMatch(/^<card id="\d+"><name>[^<]+<\/name><tags><tag>[^<]+<\/tag><tag>[^<]+<\/tag><\/tags><\/card>$/);
    const text = await card('text/*');
    expect(text.headers.get('content-type')).toBe('text/plain');
    expect(text.text).toBe('Rex (dog)');
    // the same request gets the same XML on every run (seeded)
    expect((await card('application/xml')).text).toBe(xml.text);
  });

  it('406 when nothing declared fits, naming what is; the journal records it against the Accept header', async () => {
    const s = await start({ contracts: [`${PETSTORE}@/api`], systems: OFF });
    const r = await call(`${s.url}/api/pets/7/card`, { headers: { accept: 'image/png' } });
    expect(r.status).toBe(406);
    expect(r.body).toMatchObject({
      type: 'urn:understudy:problem:not-acceptable',
      detail: 'The 200 response of getPetCard is application/json or application/xml or text/plain; Accept: image/png takes none of them.',
    });
    s.engine.flush();
    const [entry] = (await call(`${s.url}/__admin/journal?limit=1`)).body.entries;
    expect(entry.contract.errors).toEqual([{ in: 'header', name: 'accept', message: expect.stringContaining('takes none of them') }]);
  });
});
