/**
 * What a SOAP system's author writes: plain functions from a validated request body (typed by the WSDL's schema)
 * and the workspace's state to a result, one per WSDL operation. The SOAP engine (soap-engine.ts) has already
 * read the envelope safely, dispatched by the body element, checked WS-Security and validated the body against the
 * schema, so a handler holds only domain logic; it never sees XML. The engine writes the response element in the
 * schema's order from the plain object the handler returns, and a fault in the envelope's SOAP version.
 */
import type { Effect } from '../../engine/exchange.js';
import type { StateOptions } from '../../engine/system.js';

export interface SoapRequest {
  /** the WSDL operation's name (GetCustomer) */
  operation: string;
  /**
   * The body element's content, typed by the schema, by local name:
   * - string, token and restricted string types as strings; int, long, short, integer as numbers; decimal, double
   *   and float as numbers; boolean as booleans; date as `YYYY-MM-DD`; dateTime and time as they were written;
   * - an element that may repeat (maxOccurs > 1) as an array, empty when absent;
   * - an element sent with xsi:nil="true" as null; an optional element left out is absent (undefined), so a
   *   handler can tell "clear it" (null) from "leave it" (absent);
   * - a complex element as an object of the same kind;
   * - an open element (a complexType holding xsd:any, an Outbound Message's sObject) as
   *   `{ type, fields }`: `type` the local part of its xsi:type (`Account` for `sf:Account`), or null, and
   *   `fields` its child elements' text by local name (null for xsi:nil).
   */
  body: Record<string, any>;
  /** the resolved caller: the WS-Security username when the system requires it, else X-Understudy-Client */
  client: string;
  workspace: string;
  /** the name after the mount when the system answers at {mount}/{name} (SoapSystemDefinition.named), else undefined */
  endpoint: string | undefined;
  /**
   * A chaos `noAck` fault withholds this request's acknowledgement: the system still does its work (an Outbound
   * Message is recorded) but answers that it did not accept it (`<Ack>false</Ack>`). Only for systems that
   * acknowledge (SoapSystemDefinition.acknowledges).
   */
  ackWithheld: boolean;
}

/**
 * A fault a handler answers with: `code` leads the faultstring (`CODE: message`, because Apex shows only the
 * faultstring, faultcode and faultactor) and is carried in the detail element with the message and problems.
 */
export interface SoapFault {
  /** the system's error code: CUSTOMER_NOT_FOUND, CREDIT_LIMIT_EXCEEDED ... */
  code: string;
  /** a sentence saying what is wrong, in the system's words */
  message: string;
  /** whose fault: the request's (faultcode Client / Sender, HTTP 500 / 400) or the system's (Server / Receiver, 500; the default) */
  side?: 'client' | 'server';
  /** one entry per problem, each with where (an element path such as Line[2]/Quantity) and what */
  problems?: Array<{ path: string; text: string }>;
}

export type SoapResult =
  | {
      /**
       * The response element's content by local name, as SoapRequest.body describes it: strings, numbers (a
       * decimal with fractionDigits is written with that many digits), booleans, dates and dateTimes as strings or
       * as epoch milliseconds, arrays for repeated elements, null for xsi:nil, undefined for left out.
       */
      body: Record<string, unknown>;
      /** what this call changed, for the journal and the report card (`created` only when something was created) */
      effects?: Effect[];
      /** the idempotency or external key this call used, when the request element named in `keys` did not carry it */
      key?: string;
      /** for a write: whether it changed the state (logged and replayed). Absent: it did. */
      changedState?: boolean;
    }
  | {
      fault: SoapFault;
      /** absent: a fault changed nothing (every handler checks before it writes) */
      changedState?: boolean;
    };

/**
 * A handler must answer synchronously, be a function of (request, state, the state's clock) only, and change the
 * state only when it answers with a body (or says changedState): writes are logged and replayed at start-up.
 */
export type SoapHandler<S> = (req: SoapRequest, state: S) => SoapResult;

export interface SoapSystemDefinition<S> {
  /** short name: journal `system`, chaos `match.system`, config key (`erp`, `outbound`) */
  name: string;
  /** path prefix the endpoint answers at (/erp/soap) */
  mount: string;
  /** the WSDL 1.1 document (document/literal wrapped, one portType, SOAP 1.1 binding), self-contained */
  wsdlFile: string;
  /** one per WSDL operation, by operation name; every operation must have one */
  handlers: Record<string, SoapHandler<S>>;
  /** the operations that change the state: logged with their input and replayed at start-up */
  writes: readonly string[];
  /**
   * the journal `key` per operation: the request element (a direct child of the body element, by local name)
   * whose text is the operation's idempotency or external key (CreateSalesOrder → ExternalOrderNumber)
   */
  keys?: Record<string, string>;
  /** also answer at {mount}/{name} (a listener per name, /sfdc/outbound/orders); the name reaches handlers as `endpoint` */
  named?: boolean;
  /**
   * the schema's global element that fault details are written as (ErpFault: Code, Message, Problem*{Path, Text});
   * absent: a generic <Fault xmlns="urn:understudy:soap"> with the same children
   */
  faultElement?: string;
  /**
   * request elements (by local name, at any depth) whose text is a credential (an Outbound Message's SessionId, a
   * live session token): masked in the journal, whatever the request, and left out of the write log
   */
  secretElements?: readonly string[];
  /** the system answers with an acknowledgement that a chaos `noAck` fault can withhold (SoapRequest.ackWithheld) */
  acknowledges?: boolean;
  createState(options: StateOptions): S;
  /** the state as bytes for snapshots, and back (without them, start-up replays the whole log) */
  snapshotState?(state: S): Buffer;
  restoreState?(snapshot: Buffer, options: StateOptions): S;
  /** the configuration the state depends on (besides seed and WSDL): a stored log replays only against the same */
  stateOptions?: Record<string, unknown>;
}
