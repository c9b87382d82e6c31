/**
 * Parameters read in the style their contract declares (issue #14 §1: "Coerce as OpenAPI's serialisation rules say
 * (style/explode/encoding)"), on a document built from the OpenAPI specification's own style examples: a value
 * written in its style is accepted and each item checked against the item schema (an error names the item), a
 * value not written in its style is a 400 naming the parameter and the style, and cookie parameters are checked.
 */
import { describe, expect, it } from 'vitest';
import { call, start } from '../../helpers.js';

const STYLES = new URL('../../fixtures/third-party/parameter-styles.openapi.yaml', import.meta.url).pathname;
const OFF = { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } };
const COOKIE = { cookie: 'session=s-42' };

async function catalogue() {
  return start({ contracts: [`${STYLES}@/cat`], systems: OFF });
}

/** the 400's problems as `where: message` lines */
function problems(body: { errors?: Array<{ in: string; name?: string; pointer?: string; message: string }> }): string[] {
  return (body.errors ?? []).map((e) => `${e.in} ${e.name ?? ''}${e.pointer ?? ''}: ${e.message}`);
}

describe('path parameters in their style', () => {
  it('simple arrays and exploded objects are split; each item is checked', async () => {
    const s = await catalogue();
    expect((await call(`${s.url}/cat/colors/simple/blue,black`)).status).toBe(200);
    const bad = await call(`${s.url}/cat/colors/simple/blue,red`);
    expect(bad.status).toBe(400);
    expect(problems(bad.body)).toEqual([expect.stringMatching(/^path color\/1: must be equal to one of the allowed values/)]);

    expect((await call(`${s.url}/cat/points/simple/x=1,y=2`)).status).toBe(200);
    const point = await call(`${s.url}/cat/points/simple/x=1,z=2`);
    expect(point.status).toBe(400);
    expect(problems(point.body)).toEqual(['path point/z: is not a property of point']);
    const notInt = await call(`${s.url}/cat/points/simple/x=one`);
    expect(problems(notInt.body)).toEqual(['path point/x: must be integer']);
  });

  it('label and matrix values are read after their dot or name; one written otherwise is named as such', async () => {
    const s = await catalogue();
    expect((await call(`${s.url}/cat/colors/label/.3.4.5`)).status).toBe(200);
    const label = await call(`${s.url}/cat/colors/label/3.4.5`);
    expect(label.status).toBe(400);
    expect(problems(label.body)).toEqual([expect.stringMatching(/^path color: is in label style/)]);
    expect(problems((await call(`${s.url}/cat/colors/label/.3.x`)).body)).toEqual(['path color/1: must be integer']);

    expect((await call(`${s.url}/cat/items/matrix/;id=5`)).status).toBe(200);
    expect(problems((await call(`${s.url}/cat/items/matrix/;id=0`)).body)).toEqual(['path id: must be >= 1']);
    expect(problems((await call(`${s.url}/cat/items/matrix/5`)).body)).toEqual([expect.stringMatching(/^path id: is in matrix style: it starts with ;id=/)]);
    expect((await call(`${s.url}/cat/items/matrix-list/;id=3;id=4`)).status).toBe(200);
    expect(problems((await call(`${s.url}/cat/items/matrix-list/;id=3;ix=4`)).body)).toEqual([expect.stringMatching(/^path id: is in matrix style, exploded/)]);
  });
});

describe('query, header and cookie parameters in their style', () => {
  it('comma, space and pipe delimited arrays; a comma in a plain string stays in it', async () => {
    const s = await catalogue();
    const ok = await call(`${s.url}/cat/search?tags=a,b&q=x,y&sizes=1%202&ids=7|8`, { headers: COOKIE });
    expect(ok.status).toBe(200);
    const bad = await call(`${s.url}/cat/search?sizes=1%20big&ids=7|x`, { headers: COOKIE });
    expect(bad.status).toBe(400);
    expect(problems(bad.body).sort()).toEqual(['query ids/1: must be integer', 'query sizes/1: must be integer']);
  });

  it('an exploded form object is gathered from its properties; a comma-written one from its pairs', async () => {
    const s = await catalogue();
    expect((await call(`${s.url}/cat/search?color=blue&minPrice=10&box=x,1,y,2`, { headers: COOKIE })).status).toBe(200);
    const bad = await call(`${s.url}/cat/search?color=red&minPrice=-1&box=x,1,w,2`, { headers: COOKIE });
    expect(bad.status).toBe(400);
    expect(problems(bad.body).sort()).toEqual([
      'query box/w: is not a property of box',
      'query filter/color: must be equal to one of the allowed values: "blue", "black", "brown"',
      'query filter/minPrice: must be >= 0',
    ]);
  });

  it('a header list is split at its commas and trimmed', async () => {
    const s = await catalogue();
    expect((await call(`${s.url}/cat/search`, { headers: { ...COOKIE, 'x-trace-ids': '1, 2,3' } })).status).toBe(200);
    const bad = await call(`${s.url}/cat/search`, { headers: { ...COOKIE, 'x-trace-ids': '1, two' } });
    expect(problems(bad.body)).toEqual(['header x-trace-ids/1: must be integer']);
  });

  it('cookies are parameters: a required one missing, or one of the wrong type, is a 400 naming it', async () => {
    const s = await catalogue();
    const missing = await call(`${s.url}/cat/search`);
    expect(missing.status).toBe(400);
    expect(problems(missing.body)).toEqual(["cookie session: must have required property 'session'"]);
    const wrong = await call(`${s.url}/cat/search`, { headers: { cookie: 'theme=dark; session=abc; debug=maybe' } });
    expect(problems(wrong.body).sort()).toEqual(['cookie debug: must be boolean', 'cookie session: must match pattern "^s-[0-9]+$"']);
    expect((await call(`${s.url}/cat/search`, { headers: { cookie: 'session="s-1"; debug=true' } })).status).toBe(200);
  });
});
