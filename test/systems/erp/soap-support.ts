/**
 * Shared set-up for the ERP tests that go through real sockets: a server seeded small, the `soap` npm package's
 * client built from the WSDL the server serves (SOAP 1.1, or 1.2 from `?wsdl&soap=1.2`), the fault that client
 * raises read into one shape for both versions, raw envelopes POSTed with fetch (for what the client cannot or
 * should not send: Apex's shape, a replayed token), and the journal.
 */
import * as soap from 'soap';
import { expect } from 'vitest';
import { startServer, type RunningServer, type ServerOptions } from '../../../src/server.js';
import type { ManualClock } from '../../../src/util/clock.js';
import { call, start } from '../../helpers.js';

export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';
export const ERP_NS = 'urn:understudy:erp:v1';

/** small seeded sizes: 10 lines per invoice, fast to seed */
export const SMALL_ERP = { customers: 50, invoices: 200, invoiceLines: 2000 } as const;

export type SoapVersion = '1.1' | '1.2';
export const VERSIONS: readonly SoapVersion[] = ['1.1', '1.2'];

/**
 * A server with only the ERP, seeded small, on a data directory: the restart tests start one, stop it and start
 * another on the same directory (not closed after the file like start()'s: each test closes its own).
 */
export function durableErpServer(dir: string, clock: ManualClock, snapshotEvery?: number): Promise<RunningServer> {
  return startServer({
    port: 0,
    dataDir: dir,
    clock,
    seed: 11,
    systems: { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: SMALL_ERP },
    ...(snapshotEvery !== undefined ? { store: { snapshotEvery } } : {}),
  });
}

/** A server with the ERP seeded small (unless `systems.erp` says otherwise). */
export async function erpServer(options: ServerOptions = {}): Promise<RunningServer> {
  const { systems, ...rest } = options;
  return start({ seed: 11, ...rest, systems: { ...systems, erp: { ...SMALL_ERP, ...systems?.erp } } });
}

/**
 * The `soap` package's client from the server's own WSDL (its soap:address points back at the server). The package
 * does not switch to SOAP 1.2 by itself when the WSDL's binding is soap12: it always writes a 1.1 envelope unless
 * told `forceSoap12Headers`, which sends application/soap+xml with the action parameter and the 1.2 namespace.
 */
export async function erpClient(base: string, version: SoapVersion = '1.1', options: soap.IOptions = {}): Promise<soap.Client> {
  const wsdl = `${base}/erp/soap?wsdl${version === '1.2' ? '&soap=1.2' : ''}`;
  return soap.createClientAsync(wsdl, { disableCache: true, ...(version === '1.2' ? { forceSoap12Headers: true } : {}), ...options });
}

/** Calls an operation and returns its result (the first of what the *Async method resolves with). */
export async function op(client: soap.Client, operation: string, args: Record<string, unknown> = {}): Promise<any> {
  const [result] = await client[`${operation}Async`](args);
  return result;
}

/** What the client's error carries, the same for both versions. */
export interface ClientFault {
  /** HTTP status of the response */
  status: number;
  /** 1.1 faultcode / 1.2 Code/Value (soapenv:Client, soapenv:Sender ...) */
  code: string;
  /** 1.2 Code/Subcode/Value (wsse:FailedAuthentication ...) */
  subcode?: string;
  /** 1.1 faultstring / 1.2 Reason/Text */
  string: string;
  /** the ErpFault detail, as the client parsed it */
  detail: any;
  /** the error's message, as the package writes it */
  message: string;
}

/**
 * Calls an operation that must fail with a SOAP fault and reads the error the package raises: an Error whose
 * `root.Envelope.Body.Fault` is the fault as parsed (1.1: faultcode, faultstring, detail; 1.2: Code.Value,
 * Code.Subcode.Value, Reason.Text.$value, Detail) and whose `response` is the HTTP response.
 */
export async function faultFrom(client: soap.Client, operation: string, args: Record<string, unknown>): Promise<ClientFault> {
  const outcome = await client[`${operation}Async`](args).then(
    (ok: unknown) => ({ ok }),
    (err: any) => ({ err }),
  );
  expect('err' in outcome, `${operation} answered no fault: ${JSON.stringify((outcome as { ok: unknown }).ok)}`).toBe(true);
  return readFault((outcome as { err: any }).err);
}

export function readFault(err: any): ClientFault {
  expect(err).toBeInstanceOf(Error);
  const fault = err.root?.Envelope?.Body?.Fault;
  expect(fault, `the error carries the parsed fault: ${err.message}`).toBeDefined();
  const text = (v: any): string => (typeof v === 'object' && v !== null ? v.$value : v);
  return {
    status: err.response?.status,
    code: fault.faultcode ?? fault.Code?.Value,
    subcode: fault.Code?.Subcode?.Value,
    string: text(fault.faultstring ?? fault.Reason?.Text),
    detail: fault.detail ?? fault.Detail,
    message: err.message,
  };
}

/** The generic fault code of a side in a version: Client / Server (1.1), Sender / Receiver (1.2). */
export function generic(version: SoapVersion, side: 'client' | 'server'): string {
  return `soapenv:${version === '1.1' ? (side === 'client' ? 'Client' : 'Server') : side === 'client' ? 'Sender' : 'Receiver'}`;
}

/** The HTTP status a fault comes back with: 1.1 always 500; 1.2 400 for Sender, 500 for Receiver. */
export function faultStatus(version: SoapVersion, side: 'client' | 'server'): number {
  return version === '1.2' && side === 'client' ? 400 : 500;
}

export interface RawReply {
  status: number;
  contentType: string;
  text: string;
}

/** POSTs a raw body to the ERP (`prefix` for a workspace: /w/ci-1). */
export async function postRaw(base: string, body: string, headers: Record<string, string>, prefix = ''): Promise<RawReply> {
  const res = await fetch(`${base}${prefix}/erp/soap`, { method: 'POST', headers, body });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The faultstring (1.1) or Reason/Text (1.2) of a raw reply, or undefined when it is not a fault. */
export function faultStringOf(text: string): string | undefined {
  const m = /<faultstring>([^<]*)<\/faultstring>|<soapenv:Text[^>]*>([^<]*)<\/soapenv:Text>/.exec(text);
  return m ? unescape(m[1] ?? m[2]) : undefined;
}

/** The text of the first element with this local name in a raw reply. */
export function elementText(text: string, local: string): string | undefined {
  const m = new RegExp(`<(?:\\w+:)?${local}(?:\\s[^>]*)?>([^<]*)</(?:\\w+:)?${local}>`).exec(text);
  return m ? unescape(m[1]) : undefined;
}

function unescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** Journal entries (newest first) matching the query (`operation=CreateSalesOrder&key=...`). */
export async function journal(base: string, query: string): Promise<any[]> {
  const res = await call(`${base}/__admin/journal?${query}`);
  expect(res.status, res.text).toBe(200);
  return res.body.entries;
}
