/**
 * Raw SOAP traffic for the ERP's chaos tests and the erp-brownout drill: envelopes built by hand (SOAP 1.1 or
 * 1.2), POSTed over node:http on a connection of their own (so a reset or a held connection touches that request
 * alone, and no client-side pool keeps timers of its own), with the outcome never thrown: a status, the headers,
 * the text, or the error below HTTP (ECONNRESET, an abort). A fault is read into its parts with the helpers of
 * soap-support.ts. Chaos profiles are activated with PUT /__admin/chaos.
 */
import { expect } from 'vitest';
import type { ManualScheduler } from '../../../src/util/scheduler.js';
import { call, sendRaw, type RawOutcome as Outcome } from '../../helpers.js';
import { ERP_NS, SOAP11_NS, SOAP12_NS, elementText, faultStringOf, type SoapVersion } from './soap-support.js';

export type { RawOutcome as Outcome } from '../../helpers.js';

export function envelope(version: SoapVersion, body: string): string {
  const ns = version === '1.1' ? SOAP11_NS : SOAP12_NS;
  return `<soapenv:Envelope xmlns:soapenv="${ns}"><soapenv:Header/><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
}

/** The headers a SOAP client sends for `operation` in `version`, naming itself with X-Understudy-Client. */
export function soapHeaders(version: SoapVersion, operation: string, client?: string): Record<string, string> {
  const headers: Record<string, string> =
    version === '1.1'
      ? { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${ERP_NS}/${operation}"` }
      : { 'content-type': `application/soap+xml; charset=utf-8; action="${ERP_NS}/${operation}"` };
  if (client !== undefined) headers['x-understudy-client'] = client;
  return headers;
}

/** The operation's name: the local name of the body's first element. */
function operationOf(body: string): string {
  return /^<(\w+)/.exec(body)![1];
}

export interface SendOptions {
  version?: SoapVersion;
  client?: string;
  signal?: AbortSignal;
  /** a path prefix (/w/ci-1) */
  prefix?: string;
}

/** POSTs one operation's body (`<GetCustomer xmlns=...>...`) to /erp/soap in an envelope; never rejects. */
export function send(base: string, body: string, options: SendOptions = {}): Promise<Outcome> {
  const version = options.version ?? '1.1';
  return post(base, `${options.prefix ?? ''}/erp/soap`, envelope(version, body), soapHeaders(version, operationOf(body), options.client), options.signal);
}

/** A request on a connection of its own; never rejects. */
export function post(base: string, path: string, body: string, headers: Record<string, string>, signal?: AbortSignal, method = 'POST'): Promise<Outcome> {
  return sendRaw(base, path, body, headers, { signal, method });
}

/** An answer that is not a fault: its status is 200. */
export function succeeded(o: Outcome): boolean {
  return o.status === 200;
}

/** What a fault carries (SOAP 1.1 or 1.2), read from the raw text. */
export interface RawFault {
  /** faultcode (1.1) or Code/Value (1.2), with its prefix: soapenv:Server, soapenv:Receiver ... */
  code: string;
  string: string;
  /** the detail's ErpFault/Code and ErpFault/Message */
  erpCode: string | undefined;
  message: string | undefined;
}

export function faultIn(o: Outcome): RawFault {
  const string = faultStringOf(o.text);
  expect(string, `a fault: HTTP ${o.status} ${o.error ?? ''} ${o.text}`).toBeDefined();
  return {
    code: elementText(o.text, 'faultcode') ?? elementText(o.text, 'Value')!,
    string: string!,
    erpCode: elementText(o.text, 'Code'),
    message: elementText(o.text, 'Message'),
  };
}

/** The ERP's error code of a fault answer (ErpFault/Code), or undefined when it is none. */
export function erpCodeOf(o: Outcome): string | undefined {
  return faultStringOf(o.text) === undefined ? undefined : elementText(o.text, 'Code');
}

/** activates a chaos profile (YAML) in the workspace at `base` */
export async function activate(base: string, profile: string): Promise<any> {
  const put = await call(`${base}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: profile });
  expect(put.status, put.text).toBe(200);
  return put.body;
}

/** a profile of one rule: `faults` is the YAML of one fault (`soapFault: { code: ORDER_LOCKED }`) */
export function oneRule(match: string, fault: string, id = 'under-test'): string {
  return `name: erp-chaos\nrules:\n  - id: ${id}\n    match: ${match}\n    faults:\n      - ${fault}\n`;
}

/** a profile that injects nothing (to take a fault away) */
export const CALM = 'name: calm\nrules: []\n';

// ---- bodies ----

export const getCustomer = (id: string) => `<GetCustomer xmlns="${ERP_NS}"><CustomerId>${id}</CustomerId></GetCustomer>`;
export const getSalesOrder = (externalOrderNumber: string) => `<GetSalesOrder xmlns="${ERP_NS}"><ExternalOrderNumber>${externalOrderNumber}</ExternalOrderNumber></GetSalesOrder>`;
export const upsertCustomer = (externalId: string) =>
  `<UpsertCustomer xmlns="${ERP_NS}"><ExternalId>${externalId}</ExternalId><Name>Chaos Test GmbH</Name><Country>DE</Country><CurrencyCode>EUR</CurrencyCode></UpsertCustomer>`;

/** an order of one line; `quantity` makes orders differ in more than their number (as real orders do) */
export function createSalesOrder(externalOrderNumber: string, customerId: string, quantity = 1, productId = 'MAT-000001'): string {
  return (
    `<CreateSalesOrder xmlns="${ERP_NS}"><ExternalOrderNumber>${externalOrderNumber}</ExternalOrderNumber><CustomerId>${customerId}</CustomerId>` +
    `<RequestedDeliveryDate>2026-06-30</RequestedDeliveryDate><Line><ProductId>${productId}</ProductId><Quantity>${quantity}</Quantity></Line></CreateSalesOrder>`
  );
}

/**
 * A customer with no credit limit (UpsertCustomer with no CreditLimit), so that any number of orders fits; its
 * CustomerId. Created before chaos is turned on.
 */
export async function unlimitedCustomer(base: string, externalId = 'SF-CHAOS'): Promise<string> {
  const o = await send(base, upsertCustomer(externalId));
  expect(o.status, o.text).toBe(200);
  return elementText(o.text, 'CustomerId')!;
}

/**
 * Sends a request and lets the server's manual time pass whenever it waits (injected latency, a held
 * connection), up to `giveUpAfter` ms of that time, when the caller gives up (aborts) as a client-side timeout
 * would. Returns the outcome and the delays the server's timers asked for.
 */
export async function drive(scheduler: ManualScheduler, start: (signal: AbortSignal) => Promise<Outcome>, giveUpAfter = Infinity): Promise<{ outcome: Outcome; waited: number[] }> {
  const controller = new AbortController();
  const flight = start(controller.signal);
  const waited: number[] = [];
  let elapsed = 0;
  for (;;) {
    const next = await Promise.race([flight.then(() => 'answered' as const), scheduler.whenPending().then(() => 'timer' as const)]);
    if (next === 'answered') break;
    const ms = scheduler.pending[0];
    if (elapsed + ms > giveUpAfter) {
      scheduler.advance(giveUpAfter - elapsed);
      controller.abort();
      break;
    }
    waited.push(ms);
    elapsed += ms;
    scheduler.advance(ms);
  }
  return { outcome: await flight, waited };
}

/** Journal entries (newest first) for a query, asked again until `count` are there (an abandoned exchange is journaled when the server sees the close). */
export async function journalUntil(base: string, query: string, count = 1): Promise<any[]> {
  for (let i = 0; i < 500; i++) {
    const res = await call(`${base}/__admin/journal?${query}`);
    expect(res.status, res.text).toBe(200);
    if (res.body.entries.length >= count) return res.body.entries;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`fewer than ${count} journal entries for ${query}`);
}
