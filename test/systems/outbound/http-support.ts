/**
 * Sending Outbound Messages to a running server over real sockets, as Salesforce does (POST, text/xml;
 * charset=utf-8, SOAPAction ""), and reading the answers: the XML parsed with namespaces (saxes), so a test can
 * check an Ack or a fault by namespace and local name; a failure below HTTP (a reset) reported, never thrown; and
 * time passed on the server's ManualScheduler whenever it waits (latency), so nothing sleeps.
 */
import { SaxesParser } from 'saxes';
import { expect } from 'vitest';
import type { ManualScheduler } from '../../../src/util/scheduler.js';
import { call, sendRaw, type RawOutcome as Outcome } from '../../helpers.js';

export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

export type { RawOutcome as Outcome } from '../../helpers.js';

/** POSTs an envelope to `path` (/sfdc/outbound, /sfdc/outbound/orders) the way Salesforce sends one; never rejects. */
export function post(base: string, path: string, body: string, headers: Record<string, string> = {}): Promise<Outcome> {
  return sendRaw(base, path, body, { 'content-type': 'text/xml; charset=utf-8', soapaction: '""', 'user-agent': 'Jakarta Commons-HttpClient/3.1', ...headers });
}

/** Sends and lets the server's time pass whenever it waits; returns the outcome and the delays it asked for. */
export async function drive(base: string, scheduler: ManualScheduler, path: string, body: string): Promise<{ outcome: Outcome; waited: number[] }> {
  const flight = post(base, path, body);
  const waited: number[] = [];
  for (;;) {
    const next = await Promise.race([flight.then(() => 'answered' as const), scheduler.whenPending().then(() => 'timer' as const)]);
    if (next === 'answered') break;
    const ms = scheduler.pending[0];
    waited.push(ms);
    scheduler.advance(ms);
  }
  return { outcome: await flight, waited };
}

export interface XmlElement {
  ns: string;
  local: string;
  attributes: Record<string, { ns: string; value: string }>;
  children: XmlElement[];
  text: string;
}

/** The document's root element, namespaces resolved. Throws on XML that is not well formed. */
export function parseXml(text: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  parser.on('error', (err) => {
    throw err;
  });
  parser.on('opentag', (tag) => {
    const attributes: XmlElement['attributes'] = {};
    for (const a of Object.values(tag.attributes)) attributes[a.local] = { ns: a.uri, value: a.value };
    const element: XmlElement = { ns: tag.uri ?? '', local: tag.local ?? tag.name, attributes, children: [], text: '' };
    if (stack.length) stack[stack.length - 1].children.push(element);
    else root = element;
    stack.push(element);
  });
  parser.on('text', (t) => {
    if (stack.length) stack[stack.length - 1].text += t;
  });
  parser.on('closetag', () => stack.pop());
  parser.write(text).close();
  if (!root) throw new Error('no root element');
  return root;
}

/** The only child element of a SOAP 1.1 envelope's Body (the answer or the Fault). */
export function bodyElement(text: string): XmlElement {
  const envelope = parseXml(text);
  expect({ ns: envelope.ns, local: envelope.local }).toEqual({ ns: SOAP11_NS, local: 'Envelope' });
  const body = envelope.children.find((c) => c.ns === SOAP11_NS && c.local === 'Body');
  expect(body, 'a soapenv:Body').toBeDefined();
  expect(body!.children).toHaveLength(1);
  return body!.children[0];
}

/** The Ack an answer carries; fails unless it is a 200 text/xml SOAP 1.1 notificationsResponse. */
export function ackOf(outcome: Outcome): boolean {
  expect(outcome.status, outcome.text).toBe(200);
  expect(outcome.headers['content-type']).toMatch(/^text\/xml\b/);
  const answer = bodyElement(outcome.text);
  expect({ ns: answer.ns, local: answer.local }).toEqual({ ns: 'http://soap.sforce.com/2005/09/outbound', local: 'notificationsResponse' });
  expect(answer.children.map((c) => [c.ns, c.local])).toEqual([['http://soap.sforce.com/2005/09/outbound', 'Ack']]);
  const text = answer.children[0].text.trim();
  expect(['true', 'false']).toContain(text);
  return text === 'true';
}

/** A SOAP 1.1 fault's faultcode (local part) and faultstring. */
export function faultOf(outcome: Outcome): { code: string; string: string; detail: XmlElement | undefined } {
  expect(outcome.headers['content-type']).toMatch(/^text\/xml\b/);
  const fault = bodyElement(outcome.text);
  expect({ ns: fault.ns, local: fault.local }).toEqual({ ns: SOAP11_NS, local: 'Fault' });
  const child = (name: string) => fault.children.find((c) => c.local === name);
  const code = child('faultcode')?.text.trim() ?? '';
  return { code: code.slice(code.indexOf(':') + 1), string: child('faultstring')?.text ?? '', detail: child('detail') };
}

/** GET /__admin/outbound (of the workspace at base) */
export async function received(base: string, query = ''): Promise<any[]> {
  const r = await call(`${base}/__admin/outbound${query}`);
  expect(r.status, r.text).toBe(200);
  return r.body.notifications;
}

/** activates a chaos profile (YAML) through PUT /__admin/chaos */
export async function chaos(base: string, profile: string): Promise<void> {
  const put = await call(`${base}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: profile });
  expect(put.status, put.text).toBe(200);
}
