/**
 * Stripe's error object, `{"error": {"type", "code", "decline_code", "message", "param", "charge"}}`, for what the
 * handlers answer and (errorShape) for what the REST engine answers before a handler runs: routing, validation,
 * body limits, rate limits and chaos faults. An integration written against Stripe parses every error the same
 * way, whoever produced it. Messages never repeat a card number: the engine's ContractError messages describe the
 * rule broken, never the value.
 */
import type { ContractError } from '../../engine/exchange.js';
import type { EngineError, RestResult } from '../../protocols/rest/handler.js';

export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

export interface StripeError {
  type: StripeErrorType;
  code?: string;
  decline_code?: string;
  message: string;
  param?: string;
  charge?: string;
}

/** The error object, without the fields that do not apply (the contract's Error forbids nulls). */
export function errorBody(error: StripeError): { error: StripeError } {
  const out: StripeError = { type: error.type, message: error.message };
  if (error.code !== undefined) out.code = error.code;
  if (error.decline_code !== undefined) out.decline_code = error.decline_code;
  if (error.param !== undefined) out.param = error.param;
  if (error.charge !== undefined) out.charge = error.charge;
  return { error: out };
}

export function errorResult(status: number, error: StripeError): RestResult {
  return { status, body: errorBody(error) };
}

export function invalidRequest(status: number, message: string, extra: Omit<StripeError, 'type' | 'message'> = {}): RestResult {
  return errorResult(status, { type: 'invalid_request_error', message, ...extra });
}

/** Stripe's 404 for an id that is well formed and names nothing (`No such charge: 'ch_...'`). */
export function resourceMissing(what: string, id: string, param: string): RestResult {
  return invalidRequest(404, `No such ${what}: '${id}'`, { code: 'resource_missing', param });
}

export const API_ERROR_MESSAGE = 'An unknown error occurred while processing the request.';

export function apiError(): RestResult {
  return errorResult(500, { type: 'api_error', message: API_ERROR_MESSAGE });
}

/** An amount out of bounds, as the contract's InvalidAmount example words it. */
export function invalidAmount(amount: unknown, maxAmount: number): RestResult {
  return invalidRequest(400, `Invalid amount ${String(amount)}. Amounts are integers from 1 to ${maxAmount}, in the currency's minor unit.`, { param: 'amount' });
}

// --- errors the engine answers ---------------------------------------------------------------------------

/** A JSON pointer (`/card/number`) in Stripe's parameter notation (`card[number]`); undefined for the whole body. */
export function paramOfPointer(pointer: string | undefined): string | undefined {
  if (!pointer) return undefined;
  const tokens = pointer
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (tokens.length === 0 || (tokens.length === 1 && tokens[0] === '')) return undefined;
  return tokens[0] + tokens.slice(1).map((t) => `[${t}]`).join('');
}

const UNKNOWN_FIELD = 'is not allowed here by the contract';
const UNKNOWN_QUERY = 'is not a parameter of this operation';
const IDEMPOTENCY_HEADER = 'idempotency-key';

/** Builds the errorShape of RestSystemDefinition for a gateway whose amounts are capped at `maxAmount`. */
export function createErrorShape(maxAmount: number): (status: number, error: EngineError) => { body: unknown } {
  return (status, error) => ({ body: errorBody(engineErrorOf(status, error, maxAmount)) });
}

function engineErrorOf(status: number, error: EngineError, maxAmount: number): StripeError {
  if (status === 429) {
    return { type: 'invalid_request_error', code: 'rate_limit', message: 'Request rate limit exceeded. Retry after the delay in the Retry-After header.' };
  }
  if (status >= 500) return { type: 'api_error', message: error.detail || API_ERROR_MESSAGE };
  switch (error.code) {
    case 'request-validation': {
      const first = error.errors?.[0];
      return first ? validationError(first, error.operationId, maxAmount) : { type: 'invalid_request_error', message: error.detail };
    }
    case 'no-such-operation':
    case 'method-not-allowed':
      return { type: 'invalid_request_error', message: unrecognizedUrl(error) };
    case 'unsupported-media-type':
      return { type: 'invalid_request_error', message: `Unsupported Content-Type: send the body form-encoded, as Stripe's API takes it, or as JSON. ${error.detail}` };
    case 'body-too-large':
      return { type: 'invalid_request_error', message: `The request body is larger than the server accepts. ${error.detail}` };
    default:
      return { type: 'invalid_request_error', message: error.detail };
  }
}

/** Stripe's "Unrecognized request URL (GET: /v1/x)", with the method and path the engine's detail names. */
function unrecognizedUrl(error: EngineError): string {
  const match = /matches (\S+) (\S+)\.$/.exec(error.detail) ?? /^(\S+) is not allowed on (\S+);/.exec(error.detail);
  const where = match ? ` (${match[1]}: ${match[2]})` : '';
  return `Unrecognized request URL${where}. ${error.detail}`;
}

/** The first violation, worded as Stripe words it, with `param` in Stripe's notation. */
function validationError(first: ContractError, operationId: string | undefined, maxAmount: number): StripeError {
  const invalid = (param: string | undefined, message: string): StripeError => ({
    type: 'invalid_request_error',
    message,
    ...(param !== undefined ? { param } : {}),
  });
  switch (first.in) {
    case 'body': {
      const param = paramOfPointer(first.pointer);
      if (first.message === UNKNOWN_FIELD) return invalid(param, `Received unknown parameter: ${param}`);
      if (param === undefined) return invalid(undefined, `Invalid request body: ${first.message}.`);
      if (first.message.startsWith('must have required property')) return invalid(param, `Missing required param: ${param}.`);
      return invalid(param, bodyMessage(param, first.message, maxAmount));
    }
    case 'query':
      if (first.message === UNKNOWN_QUERY) return invalid(first.name, `Received unknown parameter: ${first.name}`);
      return invalid(first.name, `Invalid ${first.name}: ${first.message}.`);
    case 'header':
      if (first.name === IDEMPOTENCY_HEADER) {
        return invalid(
          'Idempotency-Key',
          /more than/.test(first.message)
            ? 'Keys for idempotent requests can be at most 255 characters long.'
            : 'Invalid Idempotency-Key: keys are 1 to 255 visible ASCII characters, without spaces.',
        );
      }
      return invalid(first.name, `Invalid ${first.name} header: ${first.message}.`);
    case 'path': {
      const kind = operationId === 'getCustomer' ? 'Customer ids start with cus_' : 'Charge ids start with ch_';
      return invalid('id', `Invalid id in the path: ${first.message}. ${kind}.`);
    }
    default:
      return invalid(undefined, `Invalid request: ${first.message}.`);
  }
}

/** Messages for the body parameters a caller gets wrong most, as the contract's examples word them. */
function bodyMessage(param: string, rule: string, maxAmount: number): string {
  if (param === 'amount') return `Invalid amount: ${rule}. Amounts are integers from 1 to ${maxAmount}, in the currency's minor unit.`;
  if (param === 'currency') return `Invalid currency: ${rule}. Use a lowercase ISO 4217 code such as usd or eur.`;
  if (param === 'card[number]') return 'Invalid card[number]: a card number is 13 to 19 digits, single spaces allowed between digits.';
  if (param === 'card[cvc]') return 'Invalid card[cvc]: a CVC is 3 or 4 digits.';
  return `Invalid ${param}: ${rule}.`;
}
