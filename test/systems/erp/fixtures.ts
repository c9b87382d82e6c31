/**
 * Shared set-up for the ERP's domain tests: a state on a ManualClock, a way to call a handler by WSDL operation as
 * the SOAP engine would (body already typed), a check that every answer's body matches the WSDL's response element
 * (names, order, required elements, nil only where nillable, occurrences, simple-type restrictions) so that the
 * engine's writer would find nothing to complain about, and the write log as the engine keeps it (accepted writes
 * with their clock times), so that tests can rebuild a state by replaying it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Effect } from '../../../src/engine/exchange.js';
import type { SoapRequest, SoapResult, SoapSystemDefinition } from '../../../src/protocols/soap/handler.js';
import { createErpSystem, type ErpOptions, type ErpState } from '../../../src/systems/erp/index.js';
import { ManualClock } from '../../../src/util/clock.js';

export const WSDL_FILE = fileURLToPath(new URL('../../../contracts/erp.wsdl', import.meta.url));
export const START = Date.UTC(2026, 2, 1, 9, 0, 0);
/** small sizes for most tests: 50 lines per invoice */
export const SMALL = { customers: 60, invoices: 400, invoiceLines: 20_000 } as const;

export interface LoggedWrite {
  operation: string;
  body: string;
  at: number;
}

/** either side of SoapResult, loosely typed for tests */
export interface Result {
  body?: any;
  fault?: any;
  effects?: Effect[];
  changedState?: boolean;
  key?: string;
}

export interface Fixture {
  system: SoapSystemDefinition<ErpState>;
  state: ErpState;
  clock: ManualClock;
  seed: number;
  log: LoggedWrite[];
  /** calls, checks the body against the WSDL, and logs the write when it changed the state */
  call(operation: string, body?: Record<string, unknown>): Result;
}

export interface FixtureOptions extends Partial<ErpOptions> {
  seed?: number;
  clock?: ManualClock;
}

export function erp(options: FixtureOptions = {}): Fixture {
  const { seed = 42, clock = new ManualClock(START), ...rest } = options;
  const system = createErpSystem({ ...SMALL, ...rest });
  return fixtureOf(system, system.createState({ seed, clock }), clock, seed);
}

/** A fixture around an existing state (a restored or replayed one). */
export function fixtureOf(system: SoapSystemDefinition<ErpState>, state: ErpState, clock: ManualClock, seed: number): Fixture {
  const log: LoggedWrite[] = [];
  return {
    system,
    state,
    clock,
    seed,
    log,
    call(operation, body = {}) {
      const result = invoke(system, state, operation, body) as Result;
      if ('body' in result && result.body) checkBody(`${operation}Response`, result.body);
      if ('fault' in result && result.fault) {
        expect(result.fault.code).toMatch(/^[A-Z_]+$/);
        expect(result.fault.message.length).toBeGreaterThan(0);
      }
      if (system.writes.includes(operation) && 'body' in result && result.changedState !== false) {
        log.push({ operation, body: JSON.stringify(body), at: clock.now() });
      }
      return result;
    },
  };
}

export function invoke(system: SoapSystemDefinition<ErpState>, state: ErpState, operation: string, body: Record<string, unknown>): SoapResult {
  const handler = system.handlers[operation];
  if (!handler) throw new Error(`no handler for ${operation}`);
  const req: SoapRequest = { operation, body, client: 'test', workspace: 'default', endpoint: undefined, ackWithheld: false };
  return handler(req, state);
}

/** Rebuilds a state from a write log, each write at its clock time (as the store replays at start-up). */
export function replay(system: SoapSystemDefinition<ErpState>, seed: number, log: readonly LoggedWrite[]): ErpState {
  const clock = new ManualClock(START);
  const state = system.createState({ seed, clock });
  for (const write of log) {
    clock.set(write.at);
    const result = invoke(system, state, write.operation, JSON.parse(write.body));
    if (!('body' in result)) throw new Error(`replayed ${write.operation} answered a fault`);
  }
  return state;
}

// ---- the WSDL's schema, read with regular expressions (the file is regular: one element per line) ------------

interface ElementDecl {
  name: string;
  type: string;
  min: number;
  max: number;
  nillable: boolean;
}

interface SimpleDecl {
  base: string;
  pattern?: RegExp;
  enumeration?: string[];
  minLength?: number;
  maxLength?: number;
  minInclusive?: number;
  maxInclusive?: number;
  fractionDigits?: number;
}

const wsdl = readFileSync(WSDL_FILE, 'utf8');

function elementsOf(sequence: string): ElementDecl[] {
  return [...sequence.matchAll(/<xsd:element ([^>]*?)\/>/g)].map(([, attrs]) => {
    const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(attrs)?.[1];
    const max = attr('maxOccurs');
    return {
      name: attr('name')!,
      type: attr('type')!,
      min: Number(attr('minOccurs') ?? 1),
      max: max === 'unbounded' ? Infinity : Number(max ?? 1),
      nillable: attr('nillable') === 'true',
    };
  });
}

export const complexTypes = new Map<string, ElementDecl[]>();
for (const [, name, content] of wsdl.matchAll(/<xsd:complexType name="(\w+)">([\s\S]*?)<\/xsd:complexType>/g)) complexTypes.set(`tns:${name}`, elementsOf(content));
for (const [, name, content] of wsdl.matchAll(/<xsd:element name="(\w+)">\s*<xsd:complexType>([\s\S]*?)<\/xsd:complexType>/g)) complexTypes.set(name, elementsOf(content));

const simpleTypes = new Map<string, SimpleDecl>();
for (const [, name, content] of wsdl.matchAll(/<xsd:simpleType name="(\w+)">([\s\S]*?)<\/xsd:simpleType>/g)) {
  const facet = (f: string) => new RegExp(`<xsd:${f} value="([^"]*)"`).exec(content)?.[1];
  const num = (f: string) => (facet(f) === undefined ? undefined : Number(facet(f)));
  const enumeration = [...content.matchAll(/<xsd:enumeration value="([^"]*)"/g)].map((m) => m[1]);
  simpleTypes.set(`tns:${name}`, {
    base: /base="([^"]+)"/.exec(content)![1],
    pattern: facet('pattern') === undefined ? undefined : new RegExp(`^(?:${facet('pattern')})$`),
    enumeration: enumeration.length ? enumeration : undefined,
    minLength: num('minLength'),
    maxLength: num('maxLength'),
    minInclusive: num('minInclusive'),
    maxInclusive: num('maxInclusive'),
    fractionDigits: num('fractionDigits'),
  });
}

/** Checks a response element's content as the engine would write it: throws (via expect) at the first problem. */
export function checkBody(element: string, body: Record<string, unknown>): void {
  checkComplex(complexTypes.get(element)!, body, element);
}

function checkComplex(decls: ElementDecl[] | undefined, value: unknown, path: string): void {
  expect(decls, `${path}: a complex type of the WSDL`).toBeDefined();
  expect(value !== null && typeof value === 'object' && !Array.isArray(value), `${path} is an object`).toBe(true);
  const obj = value as Record<string, unknown>;
  const names = decls!.map((d) => d.name);
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
  for (const k of keys) expect(names, `${path}/${k} is an element of the WSDL`).toContain(k);
  // in the schema's order
  expect(keys).toEqual(names.filter((n) => keys.includes(n)));
  for (const d of decls!) {
    const v = obj[d.name];
    const at = `${path}/${d.name}`;
    if (d.max > 1) {
      const list = (v ?? []) as unknown[];
      expect(Array.isArray(list), `${at} is an array`).toBe(true);
      expect(list.length, `${at} occurs at least ${d.min}`).toBeGreaterThanOrEqual(d.min);
      expect(list.length, `${at} occurs at most ${d.max}`).toBeLessThanOrEqual(d.max);
      list.forEach((item, i) => checkValue(d, item, `${at}[${i + 1}]`));
      continue;
    }
    if (v === undefined) {
      expect(d.min, `${at} is required`).toBe(0);
      continue;
    }
    if (v === null) {
      expect(d.nillable, `${at} is nillable`).toBe(true);
      continue;
    }
    checkValue(d, v, at);
  }
}

function checkValue(d: ElementDecl, v: unknown, at: string): void {
  if (complexTypes.has(d.type)) return checkComplex(complexTypes.get(d.type), v, at);
  const simple = simpleTypes.get(d.type);
  const base = simple?.base ?? d.type;
  switch (base) {
    case 'xsd:string':
      expect(typeof v, `${at} is a string`).toBe('string');
      break;
    case 'xsd:int':
      expect(Number.isInteger(v), `${at} is an int`).toBe(true);
      break;
    case 'xsd:decimal':
      expect(typeof v === 'number' && Number.isFinite(v), `${at} is a number`).toBe(true);
      break;
    case 'xsd:boolean':
      expect(typeof v, `${at} is a boolean`).toBe('boolean');
      break;
    case 'xsd:date':
      expect(v, at).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      break;
    case 'xsd:dateTime':
      expect(v, at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      break;
    default:
      throw new Error(`${at}: type ${d.type} not known to the check`);
  }
  if (!simple) return;
  if (simple.pattern) expect(v, at).toMatch(simple.pattern);
  if (simple.enumeration) expect(simple.enumeration, at).toContain(v);
  if (simple.minLength !== undefined) expect((v as string).length, at).toBeGreaterThanOrEqual(simple.minLength);
  if (simple.maxLength !== undefined) expect((v as string).length, at).toBeLessThanOrEqual(simple.maxLength);
  if (simple.minInclusive !== undefined) expect(v as number, at).toBeGreaterThanOrEqual(simple.minInclusive);
  if (simple.maxInclusive !== undefined) expect(v as number, at).toBeLessThanOrEqual(simple.maxInclusive);
  if (simple.fractionDigits !== undefined) {
    const scaled = (v as number) * 10 ** simple.fractionDigits;
    expect(Math.abs(scaled - Math.round(scaled)), `${at} has at most ${simple.fractionDigits} fraction digits`).toBeLessThan(1e-6);
  }
}

/** A seeded customer that can order (not blocked) and has the given kind of credit limit. */
export function customerWhere(state: ErpState, test: (c: ReturnType<ErpState['customer']> & object) => boolean): string {
  for (const c of state.customers()) if (test(c)) return c.id;
  throw new Error('no customer fits');
}
