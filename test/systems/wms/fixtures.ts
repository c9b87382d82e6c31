/**
 * Shared set-up for the WMS tests: a state on a ManualClock, a way to call a handler by operationId as the REST
 * engine would (with the catch-up wrapper createWmsSystem adds), and a check that a handler's result is what the
 * contract declares for that operation and status, so that the engine's response check would find nothing.
 */
import { dereference, parse } from '@readme/openapi-parser';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { RestRequest, RestResult } from '../../../src/protocols/rest/handler.js';
import { createWmsSystem, WmsState } from '../../../src/systems/wms/index.js';
import { ManualClock } from '../../../src/util/clock.js';

export const CONTRACT_FILE = fileURLToPath(new URL('../../../contracts/wms.openapi.yaml', import.meta.url));

export interface Fixture {
  state: WmsState;
  clock: ManualClock;
  call(operationId: string, parts?: Partial<Pick<RestRequest, 'params' | 'query' | 'body'>>): Promise<RestResult>;
}

export interface FixtureOptions {
  seed?: number;
  skus?: number;
  warehouses?: number;
  changeRatePerSecond?: number;
  reservationTtlMs?: number;
  maxObjects?: number;
  clock?: ManualClock;
}

export function wms(options: FixtureOptions = {}): Fixture {
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 2, 1, 9, 0, 0));
  const system = createWmsSystem({
    skus: options.skus ?? 1000,
    warehouses: options.warehouses ?? 3,
    changeRatePerSecond: options.changeRatePerSecond,
    reservationTtlMs: options.reservationTtlMs,
    maxObjects: options.maxObjects,
  });
  const state = system.createState({ seed: options.seed ?? 42, clock });
  return {
    state,
    clock,
    async call(operationId, parts = {}) {
      const handler = system.handlers[operationId];
      if (!handler) throw new Error(`no handler for ${operationId}`);
      const req: RestRequest = {
        operationId,
        params: parts.params ?? {},
        query: parts.query ?? {},
        headers: {},
        body: parts.body,
        client: 'test',
        workspace: 'default',
        baseUrl: '/wms/v1',
      };
      return handler(req, state);
    },
  };
}

/** Reads every chunk of a streamed result. */
export async function drain(stream: AsyncIterable<string>): Promise<string[]> {
  const chunks: string[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** A copy of the stock columns, to prove that a refused write changed nothing. */
export function snapshot(state: WmsState) {
  return {
    onHand: state.onHand.slice(),
    reserved: state.reserved.slice(),
    version: state.version.slice(),
    latestSeq: state.changes.latestSeq,
    reservations: state.reservations.issued,
    shipments: state.shipments.issued,
  };
}

// --- the contract ----------------------------------------------------------------------------------------

type OpenApiDocument = {
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, { content?: Record<string, { schema?: object }> }> }>>;
} & Record<string, any>;

/** The raw (not dereferenced) contract, for tests about the document itself. */
export const rawContract = (await parse(CONTRACT_FILE)) as unknown as OpenApiDocument;
const contract = (await dereference(CONTRACT_FILE)) as unknown as OpenApiDocument;

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
const validators = new Map<object, ValidateFunction>();

export function operations(): Array<{ method: string; path: string; operationId: string; operation: any }> {
  const out = [];
  for (const [path, item] of Object.entries(contract.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (operation && typeof operation === 'object' && 'operationId' in operation) {
        out.push({ method, path, operationId: operation.operationId as string, operation });
      }
    }
  }
  return out;
}

export function schemaValidator(schema: object): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}

/** Fails unless the contract declares this status for the operation and the body matches its schema. */
export function expectConforms(operationId: string, result: RestResult): void {
  const op = operations().find((o) => o.operationId === operationId);
  expect(op, `operation ${operationId} in the contract`).toBeDefined();
  const response = op!.operation.responses[String(result.status)];
  expect(response, `${operationId} declares status ${result.status}`).toBeDefined();
  const contentType = (result.headers?.['content-type'] ?? 'application/json').split(';')[0].trim();
  const media = response.content?.[contentType];
  expect(media, `${operationId} ${result.status} declares ${contentType}`).toBeDefined();
  if (result.stream) return;
  const validate = schemaValidator(media.schema);
  const valid = validate(JSON.parse(JSON.stringify(result.body)));
  expect(validate.errors ?? [], `${operationId} ${result.status} body matches the contract`).toEqual([]);
  expect(valid).toBe(true);
}

/** Calls and checks the result against the contract in one go: what most tests want. */
export async function callChecked(fixture: Fixture, operationId: string, parts?: Parameters<Fixture['call']>[1]): Promise<RestResult & { body: any }> {
  const result = await fixture.call(operationId, parts);
  expectConforms(operationId, result);
  return result as RestResult & { body: any };
}
