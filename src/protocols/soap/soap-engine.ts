/**
 * The SOAP protocol engine: serves one WSDL (document/literal wrapped) at a mount path, over SOAP 1.1 and 1.2.
 * It knows no domain: a system gives it a WSDL and plain handlers (handler.ts).
 *
 *   resolve          POST: reads the envelope safely (xml/xml-reader.ts: no DTDs, bounded), finds the operation by
 *                    the body element and checks SOAPAction against it; GET ?wsdl: the WSDL, its address set to
 *                    the caller's URL (operation `wsdl`, so chaos applies to it too)
 *   keyOf            the text of the operation's key element (SoapSystemDefinition.keys)
 *   validateRequest  the body element against the schema (xsd.ts): every problem listed in a Client / Sender fault
 *   invoke           the handler; its value written in schema order, or its fault with the code leading the
 *                    faultstring and carried in the detail
 *   errorReply       engine refusals and chaos faults as SOAP faults in the request's version
 *
 * Faults follow the SOAP versions' HTTP bindings: 1.1 answers every fault with 500; 1.2 answers Sender faults with
 * 400 and others with 500. Refusals the HTTP layer makes (404, 405, 413, 415, 429, 503) keep their status and
 * carry a fault body.
 */
import { originOf } from '../../engine/base-url.js';
import type { ContractError, Exchange, Reply } from '../../engine/exchange.js';
import type { OperationInfo, ProtocolEngine, Resolution } from '../../engine/system.js';
import { envelopeReply, EnvelopeError, faultReply, readEnvelope, SOAP11_NS, SOAP12_NS, type Envelope, type FaultSpec, type SoapVersion } from './envelope.js';
import type { SoapFault, SoapHandler, SoapRequest, SoapResult, SoapSystemDefinition } from './handler.js';
import { readComplex, writeContent, type Problem } from './xsd.js';
import { renderWsdl, type Wsdl, type WsdlOperation } from './wsdl.js';
import { escapeXml, readXmlBytes, XmlError } from '../xml/xml-reader.js';
import { statusErrorCode } from '../status-codes.js';

/** What resolve() learnt, kept on the exchange for the later steps (and the WS-Security check). */
export interface ParsedSoap {
  envelope: Envelope;
  operation: WsdlOperation;
  endpoint: string | undefined;
  /** the body, typed by the schema (validateRequest) */
  typed?: Record<string, unknown>;
}

/** A write as logged (JSON): what the handler reads, no more. */
interface LoggedSoapInput {
  body: Record<string, unknown>;
  client: string;
  endpoint?: string;
  ackWithheld?: boolean;
}

/** the pseudo-operation serving the WSDL */
export const WSDL_OPERATION = 'wsdl';

const ENDPOINT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const GENERIC_FAULT_NS = 'urn:understudy:soap';


export class SoapEngine implements ProtocolEngine {
  readonly protocol = 'soap' as const;
  readonly operations: OperationInfo[];
  private readonly byName = new Map<string, OperationInfo>();
  private readonly writes: ReadonlySet<string>;
  private readonly faultTag: { name: string; uri: string };
  /** finds the text of the system's secret elements in a raw body (SoapSystemDefinition.secretElements) */
  private readonly secrets: RegExp | undefined;
  private readonly secretNames: ReadonlySet<string>;
  /** rendered WSDLs by version and address (a handful of hosts in practice; bounded anyway) */
  private readonly rendered = new Map<string, string>();

  constructor(
    readonly wsdl: Wsdl,
    readonly mount: string,
    private readonly definition: SoapSystemDefinition<unknown>,
  ) {
    const template = definition.named ? `${mount}/{name}` : mount;
    const writes = new Set(definition.writes);
    this.operations = [...wsdl.operations.keys()].map((id) => ({ id, template, method: 'POST', safe: !writes.has(id) }));
    this.operations.push({ id: WSDL_OPERATION, template: mount, method: 'GET', safe: true, open: true });
    for (const op of this.operations) this.byName.set(op.id, op);
    const missing = [...wsdl.operations.keys()].filter((op) => !definition.handlers[op]);
    if (missing.length) throw new Error(`${definition.name}: no handler for the WSDL operations ${missing.join(', ')}`);
    const unknown = [...Object.keys(definition.handlers), ...definition.writes, ...Object.keys(definition.keys ?? {})].filter((op) => !wsdl.operations.has(op));
    if (unknown.length) throw new Error(`${definition.name}: ${[...new Set(unknown)].join(', ')} named but not operations of ${wsdl.file}`);
    this.writes = new Set(definition.writes);
    const secret = definition.secretElements ?? [];
    this.secretNames = new Set(secret);
    if (secret.some((name) => !/^[A-Za-z_][\w.-]*$/.test(name))) throw new Error(`${definition.name}: secretElements must be element names`);
    // <SessionId>text</SessionId>, with any prefix and attributes; CDATA too (its text has no `<` before the end)
    this.secrets = secret.length ? new RegExp(`(<(?:[\\w.-]+:)?(?:${secret.join('|')})(?:\\s[^>]*)?>)((?:<!\\[CDATA\\[[\\s\\S]*?\\]\\]>|[^<])*)`, 'g') : undefined;
    if (definition.faultElement !== undefined) {
      const decl = wsdl.elements.get(definition.faultElement);
      if (!decl) throw new Error(`${definition.name}: the fault element ${definition.faultElement} is not declared in ${wsdl.file}`);
      this.faultTag = { name: decl.name, uri: decl.uri };
    } else this.faultTag = { name: 'Fault', uri: GENERIC_FAULT_NS };
  }

  resolve(exchange: Exchange): Resolution {
    // masked first, before anything can refuse it: whoever answers, the journal never keeps a session token
    if (this.secrets !== undefined && exchange.body !== undefined && exchange.body.length !== 0) exchange.journalBody = this.masked(exchange.body);
    if (exchange.bodyProblem !== undefined) {
      // the body never arrived whole: nothing to dispatch on (the pipeline's 413 would come after resolve)
      const reply = this.refusal(exchange, 413, `The request body exceeds the server's limit or was cut short (${exchange.bodyProblem}).`);
      reply.headers.connection = 'close';
      return { reply };
    }
    let endpoint: string | undefined;
    if (exchange.path !== this.mount) {
      const name = exchange.path.slice(this.mount.length + 1);
      if (!this.definition.named || !ENDPOINT_NAME.test(name)) {
        const where = this.definition.named ? `${this.mount} or ${this.mount}/{name} (a name of letters, digits, _ and -)` : this.mount;
        return { reply: this.refusal(exchange, 404, `No SOAP endpoint at ${exchange.path}; this service answers at ${where}.`) };
      }
      endpoint = name;
    }
    if (exchange.method === 'GET' && endpoint === undefined && /(^|&)wsdl(=|&|$)/i.test(exchange.rawQuery)) {
      return { operation: this.byName.get(WSDL_OPERATION)!, params: {} };
    }
    if (exchange.method !== 'POST') {
      const reply = this.refusal(exchange, 405, `${exchange.method} is not allowed here: operations are POSTed as SOAP envelopes; GET ${this.mount}?wsdl serves the WSDL.`);
      reply.headers.allow = 'GET, POST';
      return { reply };
    }

    const read = this.readRequest(exchange);
    if ('reply' in read) return read;
    const { envelope, operation } = read;
    exchange.parsed = { envelope, operation, endpoint } satisfies ParsedSoap;
    return { operation: this.byName.get(operation.name)!, params: endpoint === undefined ? {} : { name: endpoint } };
  }

  /**
   * A POST's envelope and operation, or the fault that refuses it: the media type and charset, the XML (read
   * safely), the envelope, the operation named by the body element, the SOAP action, mustUnderstand headers.
   */
  private readRequest(exchange: Exchange): { envelope: Envelope; operation: WsdlOperation } | { reply: Reply } {
    const contentType = String(exchange.headers['content-type'] ?? '');
    const media = contentType.toLowerCase().split(';')[0].trim();
    const typeVersion: SoapVersion = media === 'application/soap+xml' ? '1.2' : '1.1';
    if (media !== 'text/xml' && media !== 'application/soap+xml' && media !== 'application/xml') {
      const what = media || 'a body without a Content-Type';
      return this.early(typeVersion, 'UNSUPPORTED_MEDIA_TYPE', `${what} is not a SOAP envelope; send text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2)`, { status: 415 });
    }
    const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      return this.early(typeVersion, 'UNSUPPORTED_MEDIA_TYPE', `charset ${charset} is not supported; send UTF-8`, { status: 415 });
    }
    if (exchange.body === undefined || exchange.body.length === 0) return this.early(typeVersion, 'INVALID_ENVELOPE', 'the request has no body; POST a SOAP envelope');

    let envelope: Envelope;
    try {
      envelope = readEnvelope(readXmlBytes(exchange.body));
    } catch (err) {
      if (err instanceof XmlError) return this.early(typeVersion, 'INVALID_XML', err.message);
      if (err instanceof EnvelopeError) {
        return err.versionMismatch
          ? this.early(typeVersion, 'VERSION_MISMATCH', err.message, { specific: 'VersionMismatch' })
          : this.early(typeVersion, 'INVALID_ENVELOPE', err.message);
      }
      throw err;
    }
    const { version, body } = envelope;
    const operation = this.wsdl.byRequestElement.get(`${body.uri} ${body.local}`);
    if (operation === undefined) {
      const sameName = this.wsdl.operations.get(body.local);
      return this.early(
        version,
        'UNKNOWN_OPERATION',
        sameName
          ? `the body element ${body.local} is in namespace ${body.uri ? `"${body.uri}"` : 'none'}; ${sameName.name} is in "${sameName.input.uri}"`
          : `the body element ${body.local} is not an operation of this service; its operations: ${[...this.wsdl.operations.keys()].join(', ')}`,
      );
    }
    const action = soapActionOf(exchange, version);
    if (action !== undefined && action !== '' && !actionNames(action, operation)) {
      return this.early(version, 'ACTION_MISMATCH', `the SOAP action "${action}" does not name ${operation.name}, whose request the body holds (its soapAction is "${operation.soapAction}")`);
    }
    const misunderstood = envelope.headers.find((h) => mustUnderstand(h, version) && !understood(h));
    if (misunderstood !== undefined) {
      const header = `{${misunderstood.uri}}${misunderstood.local}`;
      return this.early(version, 'MUST_UNDERSTAND', `the header ${header} is marked mustUnderstand, and this service does not process it`, { specific: 'MustUnderstand' });
    }
    return { envelope, operation };
  }

  /** A Client / Sender fault refusing a request before it reached an operation, with its code in the detail too. */
  private early(version: SoapVersion, code: string, message: string, extra: Pick<FaultSpec, 'status' | 'specific'> = {}): { reply: Reply } {
    return { reply: faultReply(version, { side: 'client', text: `${code}: ${message}`, detail: this.detail(code, message), ...extra }) };
  }

  keyOf(exchange: Exchange): string | undefined {
    const parsed = exchange.parsed as ParsedSoap | undefined;
    const element = parsed && this.definition.keys?.[parsed.operation.name];
    if (element === undefined) return undefined;
    const child = parsed!.envelope.body.children.find((c) => c.local === element);
    const key = child?.text.trim();
    return key ? key.slice(0, 200) : undefined;
  }

  validateRequest(exchange: Exchange): Reply | undefined {
    if (exchange.operation!.id === WSDL_OPERATION) return undefined;
    const parsed = exchange.parsed as ParsedSoap;
    const problems: Problem[] = [];
    const typed = readComplex(parsed.envelope.body, parsed.operation.input.type, parsed.operation.name, problems);
    if (problems.length) {
      for (const p of problems) exchange.contractErrors.push({ in: 'body', pointer: p.path, message: p.text } satisfies ContractError);
      const listed = problems.map((p) => `${p.path} ${p.text}`).join('; ');
      return this.fault(parsed.envelope.version, {
        code: 'VALIDATION_FAILED',
        side: 'client',
        message: `the request does not match the WSDL (${problems.length} problem${problems.length > 1 ? 's' : ''}): ${listed}`,
        problems,
      });
    }
    parsed.typed = typed;
    return undefined;
  }

  invoke(exchange: Exchange, state: unknown): Reply {
    if (exchange.operation!.id === WSDL_OPERATION) return this.serveWsdl(exchange);
    const parsed = exchange.parsed as ParsedSoap;
    const request: SoapRequest = {
      operation: parsed.operation.name,
      body: parsed.typed!,
      client: exchange.client,
      workspace: exchange.workspace.name,
      endpoint: parsed.endpoint,
      ackWithheld: exchange.ackWithheld === true,
    };
    const result = (this.definition.handlers[request.operation] as SoapHandler<unknown>)(request, state);
    if ('fault' in result) {
      const reply = this.fault(parsed.envelope.version, result.fault);
      if (result.changedState !== undefined) reply.changedState = result.changedState;
      return reply;
    }
    if (result.effects) exchange.effects.push(...result.effects);
    if (exchange.key === undefined && result.key !== undefined) exchange.key = result.key;
    const reply = this.response(parsed.envelope.version, parsed.operation, result);
    if (result.changedState !== undefined) reply.changedState = result.changedState;
    return reply;
  }

  writeInput(exchange: Exchange): LoggedSoapInput | undefined {
    const parsed = exchange.parsed as ParsedSoap | undefined;
    if (parsed === undefined || !this.writes.has(parsed.operation.name)) return undefined;
    const input: LoggedSoapInput = { body: this.secrets === undefined ? parsed.typed! : withoutSecrets(parsed.typed!, this.secretNames), client: exchange.client };
    if (parsed.endpoint !== undefined) input.endpoint = parsed.endpoint;
    if (exchange.ackWithheld === true) input.ackWithheld = true;
    return input;
  }

  replayWrite(operation: string, logged: unknown, state: unknown, workspace: string): number {
    const handler = this.definition.handlers[operation];
    if (handler === undefined) throw new Error(`the log names an operation this WSDL has no handler for: ${operation}`);
    const input = logged as LoggedSoapInput;
    const result: SoapResult = handler(
      { operation, body: input.body, client: input.client, workspace, endpoint: input.endpoint, ackWithheld: input.ackWithheld === true },
      state,
    );
    return 'fault' in result ? (result.fault.side === 'client' ? 400 : 500) : 200;
  }

  checkResponse(exchange: Exchange, reply: Reply): void {
    const problems = reply.memo as Problem[] | undefined;
    if (problems?.length) for (const p of problems) exchange.contractErrors.push({ in: 'response', pointer: p.path, message: p.text });
  }

  errorReply(status: number, _title: string, detail: string, _extra?: Record<string, unknown>, exchange?: Exchange): Reply {
    const code = statusErrorCode(status);
    return this.refusal(exchange, status, detail, code);
  }

  soapFault(exchange: Exchange, code: string, text: string, detail = text): Reply {
    return faultReply(versionOf(exchange), { side: 'server', text: `${code}: ${text}`, detail: this.detail(code, detail) });
  }

  /** The body with the text of every secret element replaced by as many asterisks. */
  private masked(body: Buffer): Buffer {
    const text = body.toString('utf8');
    this.secrets!.lastIndex = 0;
    if (!this.secrets!.test(text)) return body;
    return Buffer.from(text.replace(this.secrets!, (_m, open: string, value: string) => open + '*'.repeat(value.length)), 'utf8');
  }

  /** A fault for a refusal the HTTP layer makes: its own status, a fault body in the request's version. */
  private refusal(exchange: Exchange | undefined, status: number, detail: string, code = statusErrorCode(status)): Reply {
    const version = exchange ? versionOf(exchange) : '1.1';
    return faultReply(version, { side: status < 500 ? 'client' : 'server', text: `${code}: ${detail}`, detail: this.detail(code, detail), status });
  }

  /** A fault a handler (or validation) answers: the code leads the faultstring and is in the detail. */
  private fault(version: SoapVersion, fault: SoapFault): Reply {
    return faultReply(version, { side: fault.side ?? 'server', text: `${fault.code}: ${fault.message}`, detail: this.detail(fault.code, fault.message, fault.problems) });
  }

  private detail(code: string, message: string, problems: SoapFault['problems'] = []): string {
    const { name, uri } = this.faultTag;
    let out = `<${name} xmlns="${uri}"><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message>`;
    for (const p of problems) out += `<Problem><Path>${escapeXml(p.path)}</Path><Text>${escapeXml(p.text)}</Text></Problem>`;
    return `${out}</${name}>`;
  }

  private response(version: SoapVersion, operation: WsdlOperation, result: Extract<SoapResult, { body: unknown }>): Reply {
    const problems: Problem[] = [];
    const out = operation.output;
    const content = writeContent(result.body, out.type, out.name, problems);
    const reply = envelopeReply(version, `<${out.name} xmlns="${out.uri}">${content}</${out.name}>`);
    if (problems.length) reply.memo = problems;
    return reply;
  }

  private serveWsdl(exchange: Exchange): Reply {
    const version: SoapVersion = /(^|&)soap=1\.2(&|$)/.test(exchange.rawQuery) ? '1.2' : '1.1';
    const origin = originOf(exchange);
    if ('badHost' in origin) return this.refusal(exchange, 400, `the Host header "${origin.badHost}" is not a host name; the WSDL's address is built from it`);
    const location = `${origin.origin}${exchange.prefix}${this.mount}`;
    const key = `${version} ${location}`;
    let text = this.rendered.get(key);
    if (text === undefined) {
      text = renderWsdl(this.wsdl, location, version);
      if (this.rendered.size >= 256) this.rendered.clear();
      this.rendered.set(key, text);
    }
    return { status: 200, headers: { 'content-type': 'text/xml; charset=utf-8', 'content-length': Buffer.byteLength(text) }, body: text };
  }
}

/** The request's SOAP version: its envelope's, else its Content-Type's (1.1 when neither says). */
export function versionOf(exchange: Exchange): SoapVersion {
  const parsed = exchange.parsed as ParsedSoap | undefined;
  if (parsed?.envelope !== undefined) return parsed.envelope.version;
  return String(exchange.headers['content-type'] ?? '').toLowerCase().startsWith('application/soap+xml') ? '1.2' : '1.1';
}

/** A typed body without the secret elements, at any depth (what the write log keeps). */
function withoutSecrets(value: Record<string, unknown>, secret: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (secret.has(key)) continue;
    if (Array.isArray(v)) out[key] = v.map((item) => (isRecord(item) ? withoutSecrets(item, secret) : item));
    else out[key] = isRecord(v) ? withoutSecrets(v, secret) : v;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}


/** SOAP 1.1: the SOAPAction header (quoted, unquoted or empty); SOAP 1.2: the action parameter of Content-Type. */
function soapActionOf(exchange: Exchange, version: SoapVersion): string | undefined {
  const raw = version === '1.1' ? exchange.headers.soapaction : /;\s*action\s*=\s*("([^"]*)"|[^;\s]+)/i.exec(String(exchange.headers['content-type'] ?? ''))?.[1];
  if (raw === undefined) return undefined;
  const value = (Array.isArray(raw) ? raw[0] : raw).trim();
  return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
}

/** The action names the operation: its soapAction as written, or the operation's name (bare, or after / or #). */
function actionNames(action: string, operation: WsdlOperation): boolean {
  if (action === operation.soapAction || action === operation.name) return true;
  return action.endsWith(`/${operation.name}`) || action.endsWith(`#${operation.name}`);
}

const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';

function mustUnderstand(header: { attrs: Array<{ uri: string; local: string; value: string }> }, version: SoapVersion): boolean {
  const ns = version === '1.1' ? SOAP11_NS : SOAP12_NS;
  const v = header.attrs.find((a) => a.local === 'mustUnderstand' && a.uri === ns)?.value.trim();
  return v === '1' || v === 'true';
}

/** Header blocks this engine processes: WS-Security (checked when the system requires it, else accepted). */
function understood(header: { uri: string; local: string }): boolean {
  return header.uri === WSSE_NS && header.local === 'Security';
}

export { WSSE_NS };
