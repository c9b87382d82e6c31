/**
 * XML request bodies of a user contract (issue #14 §1), on a document shaped like the Swagger Petstore (its Pet
 * with `xml` objects: root <Pet>, wrapped <photoUrls>/<tags>, an attribute): mapped by the schema, leaf text coerced
 * to the schema's types, validated like JSON; what understudy writes as XML for the Pet it reads back; hostile
 * documents (XXE, DOCTYPE, entity expansion, too deep, not XML) refused with a 400 naming the problem while the
 * server keeps serving.
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../../src/engine/exchange.js';
import { loadContract } from '../../../src/protocols/rest/contract.js';
import { RestEngine } from '../../../src/protocols/rest/rest-engine.js';
import { call, start } from '../../helpers.js';

const PETSTORE = new URL('../../fixtures/third-party/xml-petstore.openapi.yaml', import.meta.url).pathname;
const OFF = { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } } as const;

const PET = `<?xml version="1.0" encoding="UTF-8"?>
<Pet>
  <id>10</id>
  <Category id="1"><name>Dogs</name></Category>
  <name>doggie</name>
  <photoUrls><photoUrl>https://example.com/rex.jpg</photoUrl><photoUrl>https://example.com/rex2.jpg</photoUrl></photoUrls>
  <tags><Tag><id>7</id><name>good</name></Tag></tags>
  <chipped>true</chipped>
  <status>available</status>
</Pet>`;

const xml = (body: string, method = 'POST', type = 'application/xml'): RequestInit => ({ method, headers: { 'content-type': type }, body });

/** the value validation hands on for a handler, read without a socket */
async function parsedBody(body: string): Promise<unknown> {
  const engine = await RestEngine.create(await loadContract(PETSTORE, { validate: true }), '/petstore', {});
  const exchange = { method: 'POST', path: '/petstore/pet', rawQuery: '', prefix: '', headers: { 'content-type': 'application/xml' }, body: Buffer.from(body), contractErrors: [] } as unknown as Exchange;
  const resolution = engine.resolve(exchange);
  if (!('operation' in resolution) || resolution.operation === undefined) throw new Error('not routed');
  exchange.operation = resolution.operation;
  exchange.params = resolution.params;
  const refused = engine.validateRequest(exchange);
  if (refused) throw new Error(String(refused.body));
  return JSON.parse(JSON.stringify((exchange.parsed as { body: unknown }).body));
}

describe('XML request bodies', () => {
  it("the Petstore's Pet as XML: accepted, and read by its xml objects into the value a handler gets", async () => {
    const s = await start({ contracts: [`${PETSTORE}@/petstore`], systems: OFF });
    expect((await call(`${s.url}/petstore/pet`, xml(PET))).status).toBe(200);
    expect((await call(`${s.url}/petstore/pet`, xml(PET, 'PUT'))).status).toBe(200);
    // the contract declares application/xml, not text/xml
    expect((await call(`${s.url}/petstore/pet`, xml(PET, 'PUT', 'text/xml'))).status).toBe(415);
    expect(await parsedBody(PET)).toEqual({
      id: 10,
      category: { id: 1, name: 'Dogs' },
      name: 'doggie',
      photoUrls: ['https://example.com/rex.jpg', 'https://example.com/rex2.jpg'],
      tags: [{ id: 7, name: 'good' }],
      chipped: true,
      status: 'available',
    });
  });

  it('what understudy writes as XML for a Pet, it reads back', async () => {
    const s = await start({ contracts: [`${PETSTORE}@/petstore`], systems: OFF });
    const written = await call(`${s.url}/petstore/pet`, { ...xml(PET), headers: { 'content-type': 'application/xml', accept: 'application/xml' } });
    expect(written.status).toBe(200);
    expect(written.headers.get('content-type')).toMatch(/xml/);
    expect((await call(`${s.url}/petstore/pet`, xml(written.text))).status).toBe(200);
  });

  it('leaf text is coerced by type: <id>abc</id> and <chipped>notabool</chipped> are named; a missing required element too', async () => {
    const s = await start({ contracts: [`${PETSTORE}@/petstore`], systems: OFF });
    const bad = PET.replace('<id>10</id>', '<id>abc</id>').replace('<chipped>true</chipped>', '<chipped>notabool</chipped>').replace('<Category id="1">', '<Category id="one">');
    const r = await call(`${s.url}/petstore/pet`, xml(bad));
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual(
      expect.arrayContaining([
        { in: 'body', pointer: '/id', message: 'must be integer' },
        { in: 'body', pointer: '/chipped', message: 'must be boolean' },
        { in: 'body', pointer: '/category/id', message: 'must be integer' },
      ]),
    );
    const noName = await call(`${s.url}/petstore/pet`, xml(PET.replace('<name>doggie</name>', '')));
    expect(noName.status).toBe(400);
    expect(noName.body.errors).toEqual([{ in: 'body', pointer: '/name', message: "must have required property 'name'" }]);
  });

  it('an element the schema does not have, and the wrong root element, are named', async () => {
    const s = await start({ contracts: [`${PETSTORE}@/petstore`], systems: OFF });
    const extra = await call(`${s.url}/petstore/pet`, xml(PET.replace('<status>', '<owner>ann</owner><status>')));
    expect(extra.status).toBe(400);
    expect(extra.body.errors).toEqual([{ in: 'body', pointer: '/owner', message: 'is not allowed here by the contract' }]);
    const root = await call(`${s.url}/petstore/pet`, xml(PET.replace('<Pet>', '<Animal>').replace('</Pet>', '</Animal>')));
    expect(root.status).toBe(400);
    expect(root.body.errors).toEqual([{ in: 'body', pointer: '', message: 'the root element is <Animal>; the contract names it <Pet>' }]);
  });

  it('XML declared without a schema: any well-formed document, and only that', async () => {
    const s = await start({ contracts: [`${PETSTORE}@/petstore`], systems: OFF });
    const note = (body: string) => call(`${s.url}/petstore/pet/10/notes`, xml(body, 'POST', 'text/xml'));
    expect((await note('<note lang="en"><text>Rex was a good boy</text></note>')).status).toBe(204);
    const bad = await note('<note><text>unclosed</note>');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].message).toMatch(/^the body is not usable XML: malformed XML/);
  });

  it('hostile and broken documents: a 400 naming the problem, and the server answers the next request', async () => {
    const s = await start({ contracts: [`${PETSTORE}@/petstore`], systems: OFF });
    const url = `${s.url}/petstore/pet`;
    const deep = '<Pet>' + '<a>'.repeat(200) + '</a>'.repeat(200) + '<name>x</name><photoUrls/></Pet>';
    const cases: Array<[string, string, RegExp]> = [
      ['XXE', '<?xml version="1.0"?><!DOCTYPE Pet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Pet><name>&xxe;</name></Pet>', /a DOCTYPE is not allowed/],
      ['a DOCTYPE', '<!DOCTYPE Pet SYSTEM "http://example.com/pet.dtd"><Pet><name>x</name></Pet>', /a DOCTYPE is not allowed/],
      ['billion laughs', '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]><Pet><name>&lol2;</name></Pet>', /a DOCTYPE is not allowed/],
      ['an undeclared entity', '<Pet><name>&lol9;</name><photoUrls/></Pet>', /undefined entity/i],
      ['deeply nested', deep, /nested deeper than 32/],
      ['not XML', '{"name":"doggie","photoUrls":[]}', /malformed XML/],
      ['an unclosed element', '<Pet><name>doggie</name>', /malformed XML/],
      ['another encoding', '<?xml version="1.0" encoding="ISO-8859-1"?><Pet><name>x</name></Pet>', /only UTF-8 is accepted/],
    ];
    for (const [what, body, message] of cases) {
      const r = await call(url, xml(body));
      expect(r.status, what).toBe(400);
      expect(r.body.errors[0].message, what).toMatch(/^the body is not usable XML: /);
      expect(r.body.errors[0].message, what).toMatch(message);
      expect((await call(url, xml(PET))).status, `after ${what}`).toBe(200);
    }
  });
});
