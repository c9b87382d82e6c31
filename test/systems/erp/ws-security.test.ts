/**
 * WS-Security UsernameToken on the ERP, judged by the `soap` package's own WSSecurity (a client-side
 * implementation nobody here wrote), over SOAP 1.1 and 1.2: with `systems.erp.auth: wsse` both password types get
 * in and the token's user is the journal's client; a wrong password, a missing header, a replayed nonce and a stale
 * Created are refused with the profile's fault codes. With WS-Security off, a request needs no header, and one that
 * carries a header (even marked mustUnderstand) is accepted and its token ignored.
 *
 * The package stamps Created with the machine's real time, so the server runs on a ManualClock set to now: moving it
 * six minutes makes every token the package writes stale.
 */
import * as soap from 'soap';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ERP_NS,
  VERSIONS,
  elementText,
  erpClient,
  erpServer,
  faultFrom,
  faultStringOf,
  journal,
  op,
  postRaw,
  type SoapVersion,
} from './soap-support.js';

const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const USER = { username: 'sf-integration', password: 'Pa55&<word>' };
const CUSTOMER = '0001000003';
/**
 * The HTTP status of a WS-Security refusal: SOAP 1.1 answers every fault with 500; SOAP 1.2 maps env:Sender to 400
 * whatever its Subcode (SOAP 1.2 Part 2 §7.5.1.2).
 */
const WSSE_REFUSAL_STATUS: Record<SoapVersion, number> = { '1.1': 500, '1.2': 400 };

async function wsseServer() {
  const clock = new ManualClock(Date.now());
  const server = await erpServer({ clock, systems: { erp: { auth: 'wsse' } }, auth: { users: [USER, { username: 'other', password: 'other-pw' }] } });
  return { url: server.url, clock };
}

function security(passwordType: 'PasswordText' | 'PasswordDigest', password = USER.password, options: Record<string, unknown> = {}) {
  return new soap.WSSecurity(USER.username, password, { passwordType, hasNonce: true, mustUnderstand: true, ...options });
}

/** the refusal's code as each version carries it: 1.1 the faultcode itself, 1.2 Sender with the wsse code as Subcode */
function expectWsseFault(version: SoapVersion, fault: Awaited<ReturnType<typeof faultFrom>>, local: string, code: string) {
  if (version === '1.1') expect(fault.code).toBe(`wsse:${local}`);
  else expect([fault.code, fault.subcode]).toEqual(['soapenv:Sender', `wsse:${local}`]);
  expect(fault.string).toMatch(new RegExp(`^${code}: `));
  expect(fault.status).toBe(WSSE_REFUSAL_STATUS[version]);
}

describe.each(VERSIONS)('systems.erp.auth: wsse, through the soap package over SOAP %s', (version) => {
  it.each(['PasswordText', 'PasswordDigest'] as const)('a %s token of a known user gets in; the journal names the user as client', async (passwordType) => {
    const { url } = await wsseServer();
    const client = await erpClient(url, version);
    client.setSecurity(security(passwordType));
    const result = await op(client, 'GetCustomer', { CustomerId: CUSTOMER });
    expect(result.Customer.CustomerId).toBe(CUSTOMER);
    // what went out: the package's default wsu:Timestamp (not checked by the server), and the UsernameToken with the
    // password type asked for, a nonce and a Created
    expect(client.lastRequest).toContain('<wsu:Timestamp ');
    expect(client.lastRequest).toContain(`<wsse:Security soap:mustUnderstand="1" xmlns:wsse="${WSSE_NS}"`);
    expect(client.lastRequest).toContain(`#${passwordType}">`);
    expect(client.lastRequest).toMatch(/<wsse:Nonce [^>]*>[A-Za-z0-9+/=]+<\/wsse:Nonce>/);
    expect(client.lastRequest).toMatch(/<wsu:Created>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z<\/wsu:Created>/);
    if (passwordType === 'PasswordDigest') expect(client.lastRequest).not.toContain(USER.password);

    // a write too: the order is the user's
    await op(client, 'CreateSalesOrder', { ExternalOrderNumber: `SO-${passwordType}`, CustomerId: CUSTOMER, Line: [{ ProductId: 'MAT-000004', Quantity: 1 }] });
    const entries = await journal(url, `client=${USER.username}`);
    expect(entries.map((e) => [e.operation, e.status])).toEqual([
      ['CreateSalesOrder', 200],
      ['GetCustomer', 200],
    ]);
    expect(entries[0]).toMatchObject({ client: USER.username, key: `SO-${passwordType}`, effects: [{ action: 'created' }] });
  });

  it.each(['PasswordText', 'PasswordDigest'] as const)('a wrong %s is wsse:FailedAuthentication, FAILED_AUTHENTICATION', async (passwordType) => {
    const { url } = await wsseServer();
    const client = await erpClient(url, version);
    client.setSecurity(security(passwordType, 'not-the-password'));
    const fault = await faultFrom(client, 'GetCustomer', { CustomerId: CUSTOMER });
    expectWsseFault(version, fault, 'FailedAuthentication', 'FAILED_AUTHENTICATION');
    // another user's password is not this user's
    client.setSecurity(security(passwordType, 'other-pw'));
    expectWsseFault(version, await faultFrom(client, 'GetCustomer', { CustomerId: CUSTOMER }), 'FailedAuthentication', 'FAILED_AUTHENTICATION');
    // nothing ran as anyone
    expect(await journal(url, `client=${USER.username}`)).toEqual([]);
  });

  it('no security header is wsse:InvalidSecurity, SECURITY_HEADER_MISSING, and nothing is written', async () => {
    const { url } = await wsseServer();
    const client = await erpClient(url, version);
    const fault = await faultFrom(client, 'CreateSalesOrder', { ExternalOrderNumber: 'SO-ANON', CustomerId: CUSTOMER, Line: [{ ProductId: 'MAT-000004', Quantity: 1 }] });
    expectWsseFault(version, fault, 'InvalidSecurity', 'SECURITY_HEADER_MISSING');
    // with credentials, the order is not there
    client.setSecurity(security('PasswordDigest'));
    const none = await faultFrom(client, 'GetSalesOrder', { ExternalOrderNumber: 'SO-ANON' });
    expect(none.detail.ErpFault.Code).toBe('ORDER_NOT_FOUND');
    // the WSDL is served without credentials (Salesforce fetches it so)
    expect((await fetch(`${url}/erp/soap?wsdl`)).status).toBe(200);
  });

  it.each(['PasswordText', 'PasswordDigest'] as const)('the same %s token sent twice: the replay is refused, NONCE_REPLAYED', async (passwordType) => {
    const { url } = await wsseServer();
    const client = await erpClient(url, version);
    client.setSecurity(security(passwordType));
    const args = { ExternalOrderNumber: 'SO-REPLAY', CustomerId: CUSTOMER, Line: [{ ProductId: 'MAT-000005', Quantity: 2 }] };
    expect((await op(client, 'CreateSalesOrder', args)).Created).toBe(true);

    // the exact bytes and headers the package sent, again
    const body: string = client.lastRequest!;
    const sent = client.lastRequestHeaders;
    const headers: Record<string, string> = { 'content-type': sent['Content-Type'] };
    if (sent.SOAPAction !== undefined) headers.soapaction = sent.SOAPAction;
    const replay = await postRaw(url, body, headers);
    expect(replay.status).toBe(WSSE_REFUSAL_STATUS[version]);
    expect(faultStringOf(replay.text)).toMatch(/^NONCE_REPLAYED: /);
    if (version === '1.1') expect(elementText(replay.text, 'faultcode')).toBe('wsse:FailedAuthentication');
    else expect(replay.text).toContain('<soapenv:Subcode><soapenv:Value>wsse:FailedAuthentication</soapenv:Value></soapenv:Subcode>');

    // a fresh token (the package makes one per call) is fine, and the order is still the one created
    const again = await op(client, 'CreateSalesOrder', args);
    expect(again.Created).toBe(false);
    // the refused replay ran as nobody and created nothing; it carries the order's key (read before the caller is
    // checked), so ?key= follows the order through every attempt, refused ones too
    const entries = (await journal(url, 'operation=CreateSalesOrder')).reverse();
    expect(entries.map((e) => [e.client, e.status, e.key ?? null, (e.effects ?? []).length])).toEqual([
      [USER.username, 200, 'SO-REPLAY', 1],
      ['anonymous', WSSE_REFUSAL_STATUS[version], 'SO-REPLAY', 0],
      [USER.username, 200, 'SO-REPLAY', 0],
    ]);
  });

  it('a Created more than five minutes from the server clock, either way, is MESSAGE_EXPIRED', async () => {
    const { url, clock } = await wsseServer();
    const client = await erpClient(url, version);
    client.setSecurity(security('PasswordDigest'));
    clock.set(Date.now() + 6 * 60_000);
    expectWsseFault(version, await faultFrom(client, 'GetCustomer', { CustomerId: CUSTOMER }), 'FailedAuthentication', 'MESSAGE_EXPIRED');
    clock.set(Date.now() - 6 * 60_000);
    expectWsseFault(version, await faultFrom(client, 'GetCustomer', { CustomerId: CUSTOMER }), 'FailedAuthentication', 'MESSAGE_EXPIRED');
    // within the window (a clock four minutes off) it gets in
    clock.set(Date.now() + 4 * 60_000);
    expect((await op(client, 'GetCustomer', { CustomerId: CUSTOMER })).Customer.CustomerId).toBe(CUSTOMER);
  });
});

describe.each(VERSIONS)('WS-Security off (the default), through the soap package over SOAP %s', (version) => {
  it('a request without a header works; one with a header, even mustUnderstand, is accepted and its token ignored', async () => {
    const { url } = await erpServer();
    const client = await erpClient(url, version);
    expect((await op(client, 'GetCustomer', { CustomerId: CUSTOMER })).Customer.CustomerId).toBe(CUSTOMER);
    expect(client.lastRequest).not.toContain('Header');

    // a token with a password nobody configured: not checked, not the caller
    client.setSecurity(security('PasswordDigest', 'whatever'));
    const created = await op(client, 'CreateSalesOrder', { ExternalOrderNumber: 'SO-OFF', CustomerId: CUSTOMER, Line: [{ ProductId: 'MAT-000006', Quantity: 1 }] });
    expect(client.lastRequest).toContain('soap:mustUnderstand="1"');
    expect(created.Created).toBe(true);
    client.setSecurity(security('PasswordText', 'whatever', { mustUnderstand: false }));
    expect((await op(client, 'GetSalesOrder', { ExternalOrderNumber: 'SO-OFF' })).SalesOrder.SalesOrderId).toBe(created.SalesOrder.SalesOrderId);

    const entries = (await journal(url, 'system=erp')).reverse().filter((e) => e.operation !== 'wsdl');
    expect(entries.map((e) => [e.operation, e.client, e.status])).toEqual([
      ['GetCustomer', 'anonymous', 200],
      ['CreateSalesOrder', 'anonymous', 200],
      ['GetSalesOrder', 'anonymous', 200],
    ]);
  });

  it('the X-Understudy-Client header still names the caller when WS-Security is off', async () => {
    const { url } = await erpServer();
    const client = await erpClient(url, version);
    client.addHttpHeader('X-Understudy-Client', 'middleware-7');
    client.setSecurity(security('PasswordText'));
    await op(client, 'GetCustomer', { CustomerId: CUSTOMER });
    const [entry] = await journal(url, 'operation=GetCustomer');
    expect(entry.client).toBe('middleware-7');
  });
});

describe('an Apex-shaped request with a hand-written UsernameToken (the _hns field a developer adds)', () => {
  it('PasswordText without a nonce or Created gets in, and its username is the client', async () => {
    const { url } = await wsseServer();
    const body =
      '<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
      `<env:Header><Security xmlns="${WSSE_NS}"><UsernameToken><Username>other</Username><Password>other-pw</Password></UsernameToken></Security></env:Header>` +
      `<env:Body><GetCustomer xmlns="${ERP_NS}"><CustomerId>${CUSTOMER}</CustomerId></GetCustomer></env:Body></env:Envelope>`;
    const reply = await postRaw(url, body, { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${ERP_NS}/GetCustomer"` });
    expect(reply.status, reply.text).toBe(200);
    expect(elementText(reply.text, 'CustomerId')).toBe(CUSTOMER);
    const [entry] = await journal(url, 'operation=GetCustomer');
    expect(entry.client).toBe('other');
  });
});

/* SOAP 1.2 and HTTP status: a Sender fault is 400 whatever its Subcode (SOAP 1.2 Part 2 §7.5.1.2). */
it('SOAP 1.2: a WS-Security refusal (env:Sender with a wsse Subcode) answers HTTP 400, as SOAP 1.2 Part 2 §7.5.1.2 maps Sender', async () => {
  const { url } = await wsseServer();
  const client = await erpClient(url, '1.2');
  client.setSecurity(security('PasswordText', 'wrong'));
  const fault = await faultFrom(client, 'GetCustomer', { CustomerId: CUSTOMER });
  expect(fault.code).toBe('soapenv:Sender');
  expect(fault.status).toBe(400);
});
