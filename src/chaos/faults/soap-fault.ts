/**
 * soapFault: the SOAP system answers with a fault carrying one of its error codes instead of running the
 * operation, so nothing changes: `{ code, string?, detail? }`. The code leads the faultstring (`CODE: string`,
 * all Apex shows) and is carried in the fault's detail element with `detail`'s text (else the string's);
 * faultcode Server (SOAP 1.2: Receiver), HTTP 500 — exactly like a fault the system raises itself. The ERP fault
 * everyone meets in production is `{ code: ORDER_LOCKED }` ("document is being edited by another user") on a
 * share of writes (set `probability`). On a system that does not speak SOAP it does not apply (the journal notes
 * it as skipped).
 */
import type { Exchange, Reply } from '../../engine/exchange.js';
import { NotApplicable, type FaultKind } from './fault.js';

type Params = { code: string; text: string; detail: string };

/** what well-known ERP codes say when the profile gives no string */
const KNOWN_TEXTS: Record<string, string> = {
  ORDER_LOCKED: 'the document is being edited by another user; try again later',
  SERVICE_UNAVAILABLE: 'the system is not available; try again later',
};

export const soapFault: FaultKind<Params> = {
  kind: 'soapFault',
  stage: 'before',
  schema: {
    type: 'object',
    required: ['code'],
    properties: {
      code: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' },
      string: { type: 'string', minLength: 1, maxLength: 500 },
      detail: { type: 'string', minLength: 1, maxLength: 2000 },
    },
    additionalProperties: false,
  },
  compile: (raw) => {
    const text: string = raw.string ?? KNOWN_TEXTS[raw.code] ?? 'the request could not be processed';
    return { code: raw.code, text, detail: raw.detail ?? text };
  },
  before: (ctx, p) => soapFaultReply(ctx.exchange, p.code, p.text, p.detail),
};

/** The system's SOAP fault, or NotApplicable on a system that does not speak SOAP. */
export function soapFaultReply(exchange: Exchange, code: string, text: string, detail: string = text): Reply {
  const engine = exchange.system?.engine;
  if (engine?.soapFault === undefined) throw new NotApplicable(`${exchange.system?.name ?? 'this request'} does not speak SOAP`);
  return engine.soapFault(exchange, code, text, detail);
}
