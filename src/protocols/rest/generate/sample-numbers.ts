/**
 * Numbers for generated data that keep every numeric constraint: minimum/maximum, exclusiveMinimum/Maximum in both
 * forms (OpenAPI 3.0's boolean flag on `minimum`, 3.1's number: the sampler reads the raw document, not the
 * normalised copy the validators compile), multipleOf, and the int32/int64 formats. A property-name hint (a
 * latitude, a price) only narrows the range it draws from, and only when that range meets the constraints.
 *
 * multipleOf is checked the way ajv checks it (`value / multipleOf` is an integer in floating point, with no
 * tolerance), so 0.07 is no multiple of 0.01 there; candidates are tried until one passes that test.
 */
import type { Faker } from '@faker-js/faker';

export interface NumericBounds {
  lo?: number;
  loExclusive: boolean;
  hi?: number;
  hiExclusive: boolean;
}

/** a range a name hint prefers, with the decimals its values have */
export interface PreferredRange {
  min: number;
  max: number;
  fractionDigits?: number;
}

const INT32: [number, number] = [-(2 ** 31), 2 ** 31 - 1];
const INT64: [number, number] = [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
/** the span drawn from when the schema bounds only one side, or neither */
const DEFAULT_SPAN = 1000;

/** the bounds a schema sets, whichever OpenAPI version wrote them */
export function boundsOf(schema: Record<string, unknown>): NumericBounds {
  const out: NumericBounds = { loExclusive: false, hiExclusive: false };
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const min = num(schema.minimum);
  const max = num(schema.maximum);
  const exMin = schema.exclusiveMinimum;
  const exMax = schema.exclusiveMaximum;
  out.lo = min;
  if (typeof exMin === 'number' && (min === undefined || exMin >= min)) [out.lo, out.loExclusive] = [exMin, true];
  else if (exMin === true && min !== undefined) out.loExclusive = true;
  out.hi = max;
  if (typeof exMax === 'number' && (max === undefined || exMax <= max)) [out.hi, out.hiExclusive] = [exMax, true];
  else if (exMax === true && max !== undefined) out.hiExclusive = true;
  const limits = schema.format === 'int32' ? INT32 : schema.format === 'int64' ? INT64 : undefined;
  if (limits) {
    if (out.lo === undefined || out.lo < limits[0]) [out.lo, out.loExclusive] = [limits[0], false];
    if (out.hi === undefined || out.hi > limits[1]) [out.hi, out.hiExclusive] = [limits[1], false];
  }
  return out;
}

/** whether a number keeps the schema's numeric constraints (type integer included) */
export function numberFits(value: number, schema: Record<string, unknown>, integer: boolean): boolean {
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) return false;
  const b = boundsOf(schema);
  if (b.lo !== undefined && (b.loExclusive ? value <= b.lo : value < b.lo)) return false;
  if (b.hi !== undefined && (b.hiExclusive ? value >= b.hi : value > b.hi)) return false;
  const m = schema.multipleOf;
  return typeof m !== 'number' || m <= 0 || Number.isInteger(value / m);
}

/**
 * A number (an integer when `integer`) within the schema's constraints, drawn from the preferred range where it
 * meets them. Contradictory constraints (minimum above maximum) give the lower bound: the response check reports it.
 */
export function numberFor(f: Faker, schema: Record<string, unknown>, integer: boolean, preferred?: PreferredRange): number {
  // int32/int64 only clamp the range: an id of an int64 schema is drawn near its other bounds, not near 2^53
  const b = boundsOf({ ...schema, format: undefined });
  const limits = schema.format === 'int32' ? INT32 : schema.format === 'int64' ? INT64 : undefined;
  const digits = integer ? 0 : preferred?.fractionDigits ?? 2;
  const step = integer ? 1 : 10 ** -digits;
  // the closed range [lo, hi] the value is drawn from
  let lo = b.lo === undefined ? undefined : integer ? (b.loExclusive ? Math.floor(b.lo) + 1 : Math.ceil(b.lo)) : b.loExclusive ? b.lo + step : b.lo;
  let hi = b.hi === undefined ? undefined : integer ? (b.hiExclusive ? Math.ceil(b.hi) - 1 : Math.floor(b.hi)) : b.hiExclusive ? b.hi - step : b.hi;
  // a name's range, where it meets the bounds (a side the schema leaves open does not count against it)
  if (preferred && preferred.min <= (hi ?? Infinity) && preferred.max >= (lo ?? -Infinity)) [lo, hi] = [Math.max(lo ?? -Infinity, preferred.min), Math.min(hi ?? Infinity, preferred.max)];
  if (lo === undefined && hi === undefined) [lo, hi] = [0, DEFAULT_SPAN];
  else if (lo === undefined) lo = hi! - DEFAULT_SPAN;
  else if (hi === undefined) hi = lo + DEFAULT_SPAN;
  if (limits) [lo, hi] = [Math.max(lo!, limits[0]), Math.min(hi!, limits[1])];
  if (lo! > hi!) return lo!;
  const multipleOf = typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : undefined;
  if (multipleOf === undefined) {
    let value: number;
    try {
      value = integer ? f.number.int({ min: lo!, max: hi! }) : f.number.float({ min: lo!, max: hi!, fractionDigits: digits });
    } catch {
      return lo!; // a range narrower than the digits: faker finds no value in it
    }
    // rounding to the digits can land on an exclusive bound or just outside a fractional one
    return numberFits(value, schema, integer) ? value : lo!;
  }
  return multipleWithin(f, multipleOf, lo!, hi!, integer) ?? lo!;
}

/** a multiple of `m` in [lo, hi] that ajv accepts as one (and an integer when asked), or undefined */
function multipleWithin(f: Faker, m: number, lo: number, hi: number, integer: boolean): number | undefined {
  const kLo = Math.ceil(lo / m);
  const kHi = Math.floor(hi / m);
  if (kLo > kHi) return undefined;
  const decimals = Math.min(20, (String(m).split('.')[1] ?? '').length);
  const make = (k: number) => (decimals ? Number((k * m).toFixed(decimals)) : k * m);
  const ok = (v: number) => v >= lo && v <= hi && Number.isInteger(v / m) && (!integer || Number.isInteger(v));
  for (let i = 0; i < 8; i++) {
    const v = make(f.number.int({ min: kLo, max: Math.min(kHi, kLo + 10_000) }));
    if (ok(v)) return v;
  }
  // float noise made every random one fail: walk up from the bottom
  for (let k = kLo; k <= Math.min(kHi, kLo + 1000); k++) if (ok(make(k))) return make(k);
  return undefined;
}
