/**
 * The SOAP envelope over HTTP (POST /erp/soap): documents that are XML but not a usable envelope, bodies that name
 * no operation or the right one in the wrong namespace, unqualified children, mustUnderstand headers, SOAPAction
 * mismatches, the endpoint's other paths and methods; each in SOAP 1.1 and, for a few, 1.2 (Sender faults are HTTP
 * 400 there). After every refusal the write it carried did not happen and the journal recorded it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import { readXml } from '../../../src/protocols/xml/xml-reader.js';
import {
  createOrder,
  CUSTOMER,
  env11,
  env12,
  ERP_NS,
  expectRefusedAndUnchanged,
  faultOf,
  getCustomer,
  getOrder,
  journalOf,
  newClient,
  post,
  SOAP11,
  SOAP12,
  SOAP_XML,
  startErp,
  TEXT_XML,
  type Answer,
  type Fault,
} from '../../fixtures/soap/soap-http.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startErp();
});

let orders = 0;
const orderNumber = (label: string) => `ENV-${label}-${++orders}`;

async function refused(
  label: string,
  body: string,
  expected: { status: number; code: string; string: RegExp; order?: string; contentType?: string; headers?: Record<string, string> },
): Promise<{ answer: Answer; fault: Fault; client: string }> {
  const client = newClient(label);
  const answer = await post(server, body, { 'content-type': expected.contentType ?? TEXT_XML, 'x-understudy-client': client, ...expected.headers });
  expect(answer.status, answer.text).toBe(expected.status);
  const fault = faultOf(answer);
  expect(fault.code).toBe(expected.code);
  expect(fault.string).toMatch(expected.string);
  // the code that leads the faultstring is the detail's Code too, as for the ERP's own faults
  expect(fault.detailCode).toBe(fault.string.split(':')[0]);
  await expectRefusedAndUnchanged(server, client, expected.status, expected.order);
  return { answer, fault, client };
}

const client11 = (string: RegExp, order?: string) => ({ status: 500, code: 'soapenv:Client', string, order });
const sender12 = (string: RegExp, order?: string) => ({ status: 400, code: 'soapenv:Sender', string, order, contentType: SOAP_XML });

describe('not a usable envelope', () => {
  it('a valid XML document that is not an envelope: INVALID_ENVELOPE', async () => {
    const n = orderNumber('not-env');
    await refused('not-env', createOrder(n), client11(/^INVALID_ENVELOPE: the document is not a SOAP envelope: its root is \{urn:understudy:erp:v1\}CreateSalesOrder; expected Envelope in/, n));
    await refused('html', '<html><body>hi</body></html>', client11(/^INVALID_ENVELOPE: the document is not a SOAP envelope: its root is \{\}html/));
  });

  it('an Envelope in another namespace (or none): VersionMismatch', async () => {
    const n = orderNumber('vm');
    const foreign = env11(createOrder(n)).replaceAll(SOAP11, 'http://example.com/soap/envelope/');
    const { fault } = await refused('vm', foreign, { status: 500, code: 'soapenv:VersionMismatch', string: /^VERSION_MISMATCH: the document is not a SOAP envelope: its root is \{http:\/\/example\.com\/soap\/envelope\/\}Envelope/, order: n });
    expect(fault.version).toBe('1.1');
    await refused('vm-none', `<Envelope><Body>${createOrder(n)}</Body></Envelope>`, { status: 500, code: 'soapenv:VersionMismatch', string: /^VERSION_MISMATCH: .*its root is \{\}Envelope/, order: n });
  });

  it('SOAP 1.2: VersionMismatch is a 1.2 fault with HTTP 500', async () => {
    const n = orderNumber('vm12');
    const foreign = env12(createOrder(n)).replaceAll(SOAP12, 'urn:not-soap');
    const { fault } = await refused('vm12', foreign, { status: 500, code: 'soapenv:VersionMismatch', string: /^VERSION_MISMATCH: /, order: n, contentType: SOAP_XML });
    expect(fault.version).toBe('1.2');
  });

  it('no Body, an empty Body, a Body holding two elements', async () => {
    const n = orderNumber('body');
    await refused('no-body', `<env:Envelope xmlns:env="${SOAP11}"><env:Header/></env:Envelope>`, client11(/^INVALID_ENVELOPE: the Envelope has no Body$/));
    await refused('empty-body', env11(''), client11(/^INVALID_ENVELOPE: the Body is empty; it must hold the operation's request element$/));
    await refused('blank-body', env11('\n   \n'), client11(/^INVALID_ENVELOPE: the Body is empty/));
    // two orders in one body: neither is created
    const m = orderNumber('body2');
    await refused('two-body', env11(createOrder(n) + createOrder(m)), client11(/^INVALID_ENVELOPE: the Body holds 2 elements; document\/literal wrapped takes exactly one$/, n));
    const second = faultOf(await post(server, env11(getOrder(m))));
    expect(second.detailCode).toBe('ORDER_NOT_FOUND');
  });

  it('two Bodies, a Header after the Body, something else in the Envelope', async () => {
    const n = orderNumber('shape');
    const twoBodies = env11(createOrder(n)).replace('</env:Envelope>', `<env:Body>${getCustomer()}</env:Body></env:Envelope>`);
    await refused('two-bodies', twoBodies, client11(/^INVALID_ENVELOPE: unexpected \{http:\/\/schemas\.xmlsoap\.org\/soap\/envelope\/\}Body in the Envelope; it holds an optional Header, then one Body$/, n));
    const headerAfter = env11(createOrder(n)).replace('</env:Envelope>', '<env:Header/></env:Envelope>');
    await refused('header-after', headerAfter, client11(/^INVALID_ENVELOPE: unexpected \{.*\}Header in the Envelope/, n));
    const other = env11(createOrder(n)).replace('<env:Body>', '<x:Extra xmlns:x="urn:x"/><env:Body>');
    await refused('extra', other, client11(/^INVALID_ENVELOPE: unexpected \{urn:x\}Extra in the Envelope/, n));
    const soap12Body = env11(createOrder(n)).replace('<env:Body>', `<e12:Body xmlns:e12="${SOAP12}">`).replace('</env:Body>', '</e12:Body>');
    await refused('mixed', soap12Body, client11(/^INVALID_ENVELOPE: unexpected \{http:\/\/www\.w3\.org\/2003\/05\/soap-envelope\}Body/, n));
  });

  it('two Header elements, the first one holding a mustUnderstand header, are refused', async () => {
    const n = orderNumber('two-headers');
    const body = env11(createOrder(n), `<x:H xmlns:x="urn:h" env:mustUnderstand="1"/>`).replace('<env:Body>', '<env:Header/><env:Body>');
    await refused('two-headers', body, client11(/^INVALID_ENVELOPE: unexpected \{http:\/\/schemas\.xmlsoap\.org\/soap\/envelope\/\}Header in the Envelope/, n));
  });

  // Regression: a second Header after an EMPTY one was once accepted (the check looked at the first Header's children).
  it('two Header elements, the first one empty, are refused', async () => {
    const body = env11(getCustomer()).replace('<env:Body>', '<env:Header/><env:Body>');
    await refused('two-empty-headers', body, client11(/^INVALID_ENVELOPE: unexpected \{.*\}Header in the Envelope/));
  });

  it('SOAP 1.2: an empty Body and two body elements are Sender faults with HTTP 400', async () => {
    const n = orderNumber('body12');
    const { fault } = await refused('empty-body12', env12(''), sender12(/^INVALID_ENVELOPE: the Body is empty/));
    expect(fault.version).toBe('1.2');
    await refused('two-body12', env12(createOrder(n) + getCustomer()), sender12(/^INVALID_ENVELOPE: the Body holds 2 elements/, n));
  });
});

describe('the body element', () => {
  it('an element that is no operation: UNKNOWN_OPERATION listing the operations', async () => {
    await refused(
      'unknown-op',
      env11(`<erp:DeleteAllCustomers xmlns:erp="${ERP_NS}"/>`),
      client11(/^UNKNOWN_OPERATION: the body element DeleteAllCustomers is not an operation of this service; its operations: GetCustomer, UpsertCustomer, CreateSalesOrder, GetSalesOrder, CancelSalesOrder, GetInvoice, ListInvoices$/),
    );
    // a response element is not a request
    await refused('response-op', env11(`<erp:GetCustomerResponse xmlns:erp="${ERP_NS}"/>`), client11(/^UNKNOWN_OPERATION: the body element GetCustomerResponse is not an operation/));
  });

  it('the right element in the wrong namespace, or none: the message says which namespace it belongs in', async () => {
    const n = orderNumber('wrong-ns');
    const v2 = createOrder(n).replaceAll(ERP_NS, 'urn:understudy:erp:v2');
    await refused('wrong-ns', env11(v2), client11(/^UNKNOWN_OPERATION: the body element CreateSalesOrder is in namespace "urn:understudy:erp:v2"; CreateSalesOrder is in "urn:understudy:erp:v1"$/, n));
    const none = `<CreateSalesOrder><ExternalOrderNumber>${n}</ExternalOrderNumber><CustomerId>${CUSTOMER}</CustomerId><Line><ProductId>MAT-000001</ProductId><Quantity>1</Quantity></Line></CreateSalesOrder>`;
    await refused('no-ns', env11(none), client11(/^UNKNOWN_OPERATION: the body element CreateSalesOrder is in namespace none; CreateSalesOrder is in "urn:understudy:erp:v1"$/, n));
  });

  it('unqualified children (the schema is elementFormDefault qualified): VALIDATION_FAILED saying the namespace is wrong', async () => {
    const n = orderNumber('unqualified');
    const body = `<erp:CreateSalesOrder xmlns:erp="${ERP_NS}"><ExternalOrderNumber>${n}</ExternalOrderNumber><CustomerId>${CUSTOMER}</CustomerId><Line><ProductId>MAT-000001</ProductId><Quantity>1</Quantity></Line></erp:CreateSalesOrder>`;
    const { answer, fault, client } = await refused('unqualified', env11(body), client11(/^VALIDATION_FAILED: the request does not match the WSDL/, n));
    expect(fault.string).toContain(`CreateSalesOrder/ExternalOrderNumber is in namespace none; expected "${ERP_NS}"`);
    expect(fault.string).toContain(`CreateSalesOrder/Line is in namespace none; expected "${ERP_NS}"`);
    expect(fault.detailCode).toBe('VALIDATION_FAILED');
    // each problem in the detail
    const problems = [...answer.text.matchAll(/<Problem><Path>([^<]*)<\/Path><Text>([^<]*)<\/Text><\/Problem>/g)].map((m) => m[1]);
    expect(problems).toContain('CreateSalesOrder/ExternalOrderNumber');
    // and in the journal's contract errors
    const [entry] = await journalOf(server, client);
    expect(entry.operation).toBe('CreateSalesOrder');
    expect(entry.key).toBe(n);
    expect(entry.contract.valid).toBe(false);
    expect(entry.contract.errors).toContainEqual({ in: 'body', pointer: 'CreateSalesOrder/ExternalOrderNumber', message: `is in namespace none; expected "${ERP_NS}"` });
  });

  it('a default namespace on the operation element qualifies its children: accepted (positive control)', async () => {
    const n = orderNumber('default-ns');
    const body = `<CreateSalesOrder xmlns="${ERP_NS}"><ExternalOrderNumber>${n}</ExternalOrderNumber><CustomerId>${CUSTOMER}</CustomerId><Line><ProductId>MAT-000001</ProductId><Quantity>1</Quantity></Line></CreateSalesOrder>`;
    const answer = await post(server, env11(body));
    expect(answer.status, answer.text).toBe(200);
    expect(answer.text).toContain('<Created>true</Created>');
    expect((await post(server, env11(getOrder(n)))).status).toBe(200);
  });

  it('SOAP 1.2: unknown operation and wrong namespace are Sender faults with HTTP 400', async () => {
    const n = orderNumber('ns12');
    await refused('unknown12', env12(`<erp:Nope xmlns:erp="${ERP_NS}"/>`), sender12(/^UNKNOWN_OPERATION: the body element Nope/));
    await refused('wrong-ns12', env12(createOrder(n).replaceAll(ERP_NS, 'urn:other')), sender12(/^UNKNOWN_OPERATION: the body element CreateSalesOrder is in namespace "urn:other"/, n));
    const { fault } = await refused('invalid12', env12(createOrder(n).replace('<erp:Quantity>1<', '<erp:Quantity>0<')), sender12(/^VALIDATION_FAILED: .*CreateSalesOrder\/Line\[1\]\/Quantity must be at least 1, not 0/, n));
    expect(fault.detailCode).toBe('VALIDATION_FAILED');
  });
});

describe('headers', () => {
  it('a mustUnderstand="1" header the server does not know: MustUnderstand fault, nothing written', async () => {
    const n = orderNumber('mu');
    for (const value of ['1', 'true', ' 1 ']) {
      const { fault } = await refused(
        'must-understand',
        env11(createOrder(n), `<tx:Transaction xmlns:tx="urn:example:tx" env:mustUnderstand="${value}">42</tx:Transaction>`),
        { status: 500, code: 'soapenv:MustUnderstand', string: /^MUST_UNDERSTAND: the header \{urn:example:tx\}Transaction is marked mustUnderstand, and this service does not process it$/, order: n },
      );
      expect(fault.version).toBe('1.1');
    }
  });

  it('mustUnderstand="0", or a mustUnderstand attribute in another namespace, is no demand: the request is served', async () => {
    const n = orderNumber('mu0');
    const answer = await post(
      server,
      env11(createOrder(n), `<tx:A xmlns:tx="urn:example:tx" env:mustUnderstand="0"/><tx:B xmlns:tx="urn:example:tx" mustUnderstand="1"/><tx:C xmlns:tx="urn:example:tx" xmlns:e12="${SOAP12}" e12:mustUnderstand="true"/>`),
    );
    expect(answer.status, answer.text).toBe(200);
    expect((await post(server, env11(getOrder(n)))).status).toBe(200);
  });

  it('a WS-Security header marked mustUnderstand is understood (and not required when the ERP does not ask for it)', async () => {
    const security = `<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" env:mustUnderstand="1"><wsse:UsernameToken><wsse:Username>u</wsse:Username><wsse:Password>p</wsse:Password></wsse:UsernameToken></wsse:Security>`;
    expect((await post(server, env11(getCustomer(), security))).status).toBe(200);
  });

  it('SOAP 1.2: env:mustUnderstand="true" on an unknown header is a MustUnderstand fault (HTTP 500)', async () => {
    const n = orderNumber('mu12');
    const { fault } = await refused('mu12', env12(createOrder(n), `<tx:T xmlns:tx="urn:example:tx" env:mustUnderstand="true"/>`), {
      status: 500,
      code: 'soapenv:MustUnderstand',
      string: /^MUST_UNDERSTAND: the header \{urn:example:tx\}T/,
      order: n,
      contentType: SOAP_XML,
    });
    expect(fault.version).toBe('1.2');
  });
});

describe('SOAPAction', () => {
  it('an action naming another operation: ACTION_MISMATCH, nothing written', async () => {
    const n = orderNumber('action');
    await refused('action', env11(createOrder(n)), {
      ...client11(/^ACTION_MISMATCH: the SOAP action "urn:understudy:erp:v1\/GetCustomer" does not name CreateSalesOrder, whose request the body holds \(its soapAction is "urn:understudy:erp:v1\/CreateSalesOrder"\)$/, n),
      headers: { soapaction: '"urn:understudy:erp:v1/GetCustomer"' },
    });
    await refused('action12', env12(createOrder(n)), {
      ...sender12(/^ACTION_MISMATCH: the SOAP action "urn:x:CancelSalesOrder" does not name CreateSalesOrder/, n),
      contentType: 'application/soap+xml; charset=utf-8; action="urn:x:CancelSalesOrder"',
    });
  });

  it('quoted, unquoted, empty and absent actions naming the operation are accepted', async () => {
    for (const action of ['"urn:understudy:erp:v1/GetCustomer"', 'urn:understudy:erp:v1/GetCustomer', '""', '', 'GetCustomer', 'http://anything/#GetCustomer']) {
      const answer = await post(server, env11(getCustomer()), { 'content-type': TEXT_XML, soapaction: action });
      expect(answer.status, `SOAPAction ${action}`).toBe(200);
    }
  });
});

describe('the endpoint', () => {
  it('GET without ?wsdl is 405 with Allow and a fault; another path is 404 with a fault', async () => {
    const res = await fetch(`${server.url}/erp/soap`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST');
    const text = await res.text();
    expect(readXml(text).local).toBe('Envelope');
    expect(text).toMatch(/<faultstring>METHOD_NOT_ALLOWED: GET is not allowed here/);
    const other = await post(server, env11(getCustomer()), { 'content-type': TEXT_XML }, '/erp/soap/extra');
    expect(other.status).toBe(404);
    expect(faultOf(other).string).toMatch(/^NOT_FOUND: No SOAP endpoint at \/erp\/soap\/extra/);
  });

  it('GET ?wsdl with a hostile Host header is refused, never written into the WSDL', async () => {
    const { request } = await import('node:http');
    const { hostname, port } = new URL(server.url);
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ host: hostname, port, path: '/erp/soap?wsdl', headers: { host: 'evil"><wsdl:import location="x"/>' } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(400);
    expect(answer.text).not.toContain('<wsdl:import');
    expect(answer.text).toMatch(/BAD_REQUEST: the Host header/);
  });
});

describe('control characters through XML 1.1', () => {
  // Regression: an XML 1.1 declaration once let &#1; through, stored and echoed into an XML 1.0 response no client can read.
  it('an XML 1.1 envelope with &#1; is refused; every answer stays well-formed XML 1.0', async () => {
    const own = await startErp();
    const body = env11(
      `<erp:UpsertCustomer xmlns:erp="${ERP_NS}"><erp:ExternalId>CTRL-1</erp:ExternalId><erp:Name>A&#1;B</erp:Name><erp:Country>GB</erp:Country><erp:CurrencyCode>GBP</erp:CurrencyCode></erp:UpsertCustomer>`,
    ).replace('version="1.0"', 'version="1.1"');
    const answer = await post(own, body);
    expect(() => readXml(answer.text)).not.toThrow();
    expect(answer.status).toBe(500);
    expect(faultOf(answer).string).toMatch(/^INVALID_XML: /);
  });
});
