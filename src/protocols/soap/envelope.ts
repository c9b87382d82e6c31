/**
 * SOAP 1.1 and 1.2 envelopes: reading a request's (which version, the header blocks, the one body element) and
 * writing responses and faults in the request's version. Always a plain envelope, never MTOM or multipart, which
 * Apex cannot parse (SALESFORCE.md §7).
 *
 * Fault shapes: 1.1 `faultcode` (a QName: soapenv:Client / soapenv:Server / wsse:FailedAuthentication ...),
 * `faultstring`, `detail`, always HTTP 500 (SOAP 1.1 §6.2); 1.2 `Code/Value` (Sender / Receiver, with a Subcode
 * for anything more specific), `Reason/Text`, `Detail`, HTTP 400 for Sender and 500 otherwise (SOAP 1.2 part 2
 * §7.5.1.2; a Sender fault with a Subcode, such as a WS-Security refusal, too).
 */
import type { Reply } from '../../engine/exchange.js';
import { escapeXml, XSI, type XmlElement } from '../xml/xml-reader.js';

export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';

export type SoapVersion = '1.1' | '1.2';

export const CONTENT_TYPE: Record<SoapVersion, string> = {
  '1.1': 'text/xml; charset=utf-8',
  '1.2': 'application/soap+xml; charset=utf-8',
};

export interface Envelope {
  version: SoapVersion;
  headers: XmlElement[];
  body: XmlElement;
}

export class EnvelopeError extends Error {
  constructor(
    message: string,
    /** VersionMismatch when the root is not a SOAP envelope of a version this server speaks */
    readonly versionMismatch = false,
  ) {
    super(message);
  }
}

export function readEnvelope(root: XmlElement): Envelope {
  const version: SoapVersion | undefined = root.uri === SOAP11_NS ? '1.1' : root.uri === SOAP12_NS ? '1.2' : undefined;
  if (root.local !== 'Envelope' || version === undefined) {
    throw new EnvelopeError(
      `the document is not a SOAP envelope: its root is {${root.uri}}${root.local}; expected Envelope in ${SOAP11_NS} (SOAP 1.1) or ${SOAP12_NS} (SOAP 1.2)`,
      root.local === 'Envelope',
    );
  }
  let headers: XmlElement[] = [];
  let header: XmlElement | undefined;
  let body: XmlElement | undefined;
  for (const child of root.children) {
    if (child.uri === root.uri && child.local === 'Header' && body === undefined && header === undefined) {
      header = child;
      headers = child.children;
    }
    else if (child.uri === root.uri && child.local === 'Body' && body === undefined) body = child;
    else throw new EnvelopeError(`unexpected {${child.uri}}${child.local} in the Envelope; it holds an optional Header, then one Body`);
  }
  if (body === undefined) throw new EnvelopeError('the Envelope has no Body');
  if (body.children.length !== 1) {
    throw new EnvelopeError(body.children.length === 0 ? 'the Body is empty; it must hold the operation\'s request element' : `the Body holds ${body.children.length} elements; document/literal wrapped takes exactly one`);
  }
  return { version, headers, body: body.children[0] };
}

/** `<Envelope><Body>content</Body></Envelope>` in the version's namespace, as a 200 reply. */
export function envelopeReply(version: SoapVersion, content: string, status = 200): Reply {
  const body = `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${version === '1.1' ? SOAP11_NS : SOAP12_NS}" xmlns:xsi="${XSI}"><soapenv:Body>${content}</soapenv:Body></soapenv:Envelope>`;
  return { status, headers: { 'content-type': CONTENT_TYPE[version], 'content-length': Buffer.byteLength(body) }, body };
}

export interface FaultSpec {
  /** Client / Server (1.1); mapped to Sender / Receiver for 1.2 */
  side: 'client' | 'server';
  /** a more specific code than Client/Server: a QName with its namespace (wsse:FailedAuthentication), or VersionMismatch / MustUnderstand */
  specific?: { prefix: string; uri: string; local: string } | 'VersionMismatch' | 'MustUnderstand';
  /** the whole faultstring (CODE: message) */
  text: string;
  /** the detail element's XML, already written, or undefined */
  detail?: string;
  /** HTTP status; default 500 for 1.1, 400 (Sender) / 500 for 1.2 */
  status?: number;
}

export function faultReply(version: SoapVersion, fault: FaultSpec): Reply {
  let content: string;
  let extraNs = '';
  if (typeof fault.specific === 'object') extraNs = ` xmlns:${fault.specific.prefix}="${escapeXml(fault.specific.uri)}"`;
  if (version === '1.1') {
    const code =
      fault.specific === undefined ? `soapenv:${fault.side === 'client' ? 'Client' : 'Server'}`
      : typeof fault.specific === 'string' ? `soapenv:${fault.specific}`
      : `${fault.specific.prefix}:${fault.specific.local}`;
    content = `<soapenv:Fault${extraNs}><faultcode>${code}</faultcode><faultstring>${escapeXml(fault.text)}</faultstring>${fault.detail !== undefined ? `<detail>${fault.detail}</detail>` : ''}</soapenv:Fault>`;
  } else {
    const value = typeof fault.specific === 'string' ? fault.specific : fault.side === 'client' ? 'Sender' : 'Receiver';
    const sub = typeof fault.specific === 'object' ? `<soapenv:Subcode><soapenv:Value>${fault.specific.prefix}:${fault.specific.local}</soapenv:Value></soapenv:Subcode>` : '';
    content =
      `<soapenv:Fault${extraNs}><soapenv:Code><soapenv:Value>soapenv:${value}</soapenv:Value>${sub}</soapenv:Code>` +
      `<soapenv:Reason><soapenv:Text xml:lang="en">${escapeXml(fault.text)}</soapenv:Text></soapenv:Reason>` +
      `${fault.detail !== undefined ? `<soapenv:Detail>${fault.detail}</soapenv:Detail>` : ''}</soapenv:Fault>`;
  }
  // 1.2: Sender is 400 whatever its Subcode; VersionMismatch and MustUnderstand are their own codes, and 500
  const status = fault.status ?? (version === '1.2' && fault.side === 'client' && typeof fault.specific !== 'string' ? 400 : 500);
  return envelopeReply(version, content, status);
}
