/**
 * Shared set-up for the payment gateway's domain tests: a state on a ManualClock, a way to call a handler by
 * operationId as the REST engine would (request body checked against the contract first, then sanitized, then the
 * catch-up + idempotency wrappers createPaymentsSystem adds), a check that every result is what the contract
 * declares for that operation and status, and a write log kept as the engine keeps it (accepted writes with their
 * clock times and the sanitized input), so that tests can rebuild a state by replaying it.
 */
import { dereference } from '@readme/openapi-parser';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { RestRequest, RestResult, RestSystemDefinition } from '../../../src/protocols/rest/handler.js';
import { createPaymentsSystem, type PaymentsOptions, type PaymentsState } from '../../../src/systems/payments/index.js';
import { ManualClock } from '../../../src/util/clock.js';

export const CONTRACT_FILE = fileURLToPath(new URL('../../../contracts/payments.openapi.yaml', import.meta.url));
export const START = Date.UTC(2026, 2, 1, 9, 0, 0);

export const DEFAULT_OPTIONS: PaymentsOptions = {
  captureDelayMs: 2000,
  captureFailureRate: 0,
  idempotencyKeyTtlMs: 24 * 3600_000,
  maxAmount: 99_999_999,
};

export interface CallParts {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  /** the Idempotency-Key header */
  key?: string;
  client?: string;
  baseUrl?: string;
}

/** A logged write, as engine/system-states.ts logs it: the input the handler read and the clock time. */
export interface LoggedWrite {
  operationId: string;
  input: string;
  at: number;
  status: number;
}

export type Result = RestResult & { body: any };

export interface Fixture {
  system: RestSystemDefinition<PaymentsState>;
  state: PaymentsState;
  clock: ManualClock;
  seed: number;
  log: LoggedWrite[];
  /** calls, checks against the contract, and logs the write when it changed the state */
  call(operationId: string, parts?: CallParts): Result;
}

export interface FixtureOptions extends Partial<PaymentsOptions> {
  seed?: number;
  clock?: ManualClock;
}

const WRITES = new Set(['createCustomer', 'createPaymentMethod', 'createCharge', 'captureCharge', 'createRefund']);

export function payments(options: FixtureOptions = {}): Fixture {
  const { seed = 42, clock = new ManualClock(START), ...rest } = options;
  const system = createPaymentsSystem({ ...DEFAULT_OPTIONS, ...rest });
  const state = system.createState({ seed, clock });
  const log: LoggedWrite[] = [];
  const fixture: Fixture = {
    system,
    state,
    clock,
    seed,
    log,
    call(operationId, parts = {}) {
      if (parts.body !== undefined) expectValidRequest(operationId, parts.body);
      const req = requestOf(system, operationId, parts);
      const result = invoke(system, fixture.state, req) as Result;
      expectConforms(operationId, result);
      if (WRITES.has(operationId) && (result.changedState ?? (result.status >= 200 && result.status < 300))) {
        const { params, query, headers, body, client, baseUrl } = req;
        log.push({ operationId, input: JSON.stringify({ params, query, headers, body, client, baseUrl }), at: clock.now(), status: result.status });
      }
      return result;
    },
  };
  return fixture;
}

/** The request the engine would hand the handler: sanitized body, the key as the only header. */
export function requestOf(system: RestSystemDefinition<PaymentsState>, operationId: string, parts: CallParts): RestRequest {
  return {
    operationId,
    params: parts.params ?? {},
    query: parts.query ?? {},
    headers: parts.key === undefined ? {} : { 'idempotency-key': parts.key },
    body: parts.body === undefined ? undefined : system.sanitizeBody!(operationId, structuredClone(parts.body)),
    client: parts.client ?? 'sf-sandbox',
    workspace: 'default',
    baseUrl: parts.baseUrl ?? '/payments/v1',
  };
}

export function invoke(system: RestSystemDefinition<PaymentsState>, state: PaymentsState, req: RestRequest): RestResult {
  const result = system.handlers[req.operationId](req, state);
  if (result instanceof Promise) throw new Error(`${req.operationId} answered asynchronously: writes must be synchronous`);
  // a body given serialized (a stored answer) is what the client gets; a value next to it must be its source
  if (result.json !== undefined) {
    if (result.body !== undefined) expect(JSON.stringify(result.body)).toBe(result.json);
    return { ...result, body: JSON.parse(result.json) };
  }
  return result;
}

/**
 * A state rebuilt as the engine rebuilds one at start-up: created at `epoch` (clock pinned there), then every
 * logged write run again with the clock at its time. Returns the state and the statuses the replays answered.
 */
export function replay(fixture: Fixture, log: LoggedWrite[] = fixture.log, epoch = START): { state: PaymentsState; clock: ManualClock; statuses: number[] } {
  const clock = new ManualClock(epoch);
  const state = fixture.system.createState({ seed: fixture.seed, clock });
  const statuses: number[] = [];
  for (const write of log) {
    clock.set(write.at);
    const input = JSON.parse(write.input);
    statuses.push(invoke(fixture.system, state, { operationId: write.operationId, workspace: 'default', ...input }).status);
  }
  return { state, clock, statuses };
}

// --- the contract ----------------------------------------------------------------------------------------

type OpenApiDocument = { paths: Record<string, Record<string, any>> } & Record<string, any>;
export const contract = (await dereference(CONTRACT_FILE)) as unknown as OpenApiDocument;

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
const validators = new Map<object, ValidateFunction>();

function validatorOf(schema: object): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}

export function operationOf(operationId: string): any {
  for (const item of Object.values(contract.paths)) {
    for (const operation of Object.values(item)) if (operation?.operationId === operationId) return operation;
  }
  throw new Error(`no operation ${operationId} in the contract`);
}

/** Fails unless the request body is one the contract accepts (tests send what the engine would let through). */
export function expectValidRequest(operationId: string, body: unknown): void {
  const schema = operationOf(operationId).requestBody?.content?.['application/json']?.schema;
  expect(schema, `${operationId} takes a JSON body`).toBeDefined();
  const validate = validatorOf(schema);
  validate(structuredClone(body));
  expect(validate.errors ?? [], `${operationId} request body matches the contract`).toEqual([]);
}

/**
 * Fails unless the contract declares this status for the operation, the body matches its schema, and the
 * Idempotent-Replayed header appears only where the contract declares it.
 */
export function expectConforms(operationId: string, result: RestResult): void {
  const operation = operationOf(operationId);
  const response = operation.responses[String(result.status)];
  expect(response, `${operationId} declares status ${result.status}`).toBeDefined();
  const contentType = (result.headers?.['content-type'] ?? 'application/json').split(';')[0].trim();
  const media = response.content?.[contentType];
  expect(media, `${operationId} ${result.status} declares ${contentType}`).toBeDefined();
  const validate = validatorOf(media.schema);
  const valid = validate(JSON.parse(JSON.stringify(result.body)));
  expect(validate.errors ?? [], `${operationId} ${result.status} body matches the contract`).toEqual([]);
  expect(valid).toBe(true);
  if (result.headers?.['idempotent-replayed'] !== undefined) {
    expect(result.headers['idempotent-replayed']).toBe('true');
    expect(Object.keys(response.headers ?? {}), `${operationId} ${result.status} declares Idempotent-Replayed`).toContain('Idempotent-Replayed');
  }
}

/** Validates a value against a named component schema (webhook events). */
export function expectSchema(name: string, value: unknown): void {
  const validate = validatorOf(contract.components.schemas[name]);
  validate(JSON.parse(JSON.stringify(value)));
  expect(validate.errors ?? [], `${name} matches the contract`).toEqual([]);
}

// --- short-hands ---------------------------------------------------------------------------------------------

export const charge = (extra: Record<string, unknown> = {}) => ({ amount: 4999, currency: 'usd', payment_method: 'pm_card_visa', ...extra });

export function card(number: string, extra: Record<string, unknown> = {}) {
  return { type: 'card', card: { number, exp_month: 12, exp_year: 2030, ...extra } };
}

/** Every GET answer that shows the state, to compare two states as a caller would see them. */
export function visible(fixture: Pick<Fixture, 'system'>, state: PaymentsState): unknown {
  const read = (operationId: string, parts: CallParts = {}) => {
    const result = invoke(fixture.system, state, requestOf(fixture.system, operationId, parts));
    expectConforms(operationId, result);
    return result.body;
  };
  return {
    charges: read('listCharges', { query: { limit: 100 } }),
    ledger: read('listLedgerEntries', { query: { limit: 100 } }),
    customers: [...state.customers.keys()].map((id) => read('getCustomer', { params: { id } })),
    each: state.charges.map((c) => read('getCharge', { params: { id: c.id } })),
  };
}
