/**
 * The stock simulation's rate as users write it (`systems.wms.changeRate`, `--wms-change-rate`,
 * `UNDERSTUDY_WMS_CHANGE_RATE`, `PUT /__admin/wms/simulation`): `N/s`, `N/m` or `N/h`. One parser for all of them,
 * so that each place accepts exactly the same rates and refuses the rest with the same words. No imports: the
 * configuration reads it without loading the WMS.
 */

export const CHANGE_RATE_PATTERN = /^\d+(\.\d+)?\/(s|m|h)$/;

/**
 * The fastest simulation: each change is applied on the event loop before a request, so a rate of millions per
 * second would turn every request after a pause into a catch-up of thousands of changes.
 */
export const MAX_CHANGES_PER_SECOND = 1000;

const SECONDS_PER_UNIT: Record<string, number> = { s: 1, m: 60, h: 3600 };

export interface ChangeRate {
  /** changes per second of clock time */
  perSecond: number;
  /** as the user wrote it, in the unit they chose, the number without redundant zeros (`120/m`, `0.5/s`) */
  text: string;
}

/** What is wrong with a rate, without saying where it came from: the caller names the flag, key or field. */
export class ChangeRateError extends Error {}

/** A rate as written; throws ChangeRateError ("is not a rate: ...", "is more than 1000 changes per second ..."). */
export function parseChangeRate(written: string): ChangeRate {
  if (!CHANGE_RATE_PATTERN.test(written)) throw new ChangeRateError('is not a rate: write N/s, N/m or N/h, such as 0/s, 5/s or 120/m');
  const [number, unit] = written.split('/');
  const perSecond = Number(number) / SECONDS_PER_UNIT[unit];
  if (!(perSecond <= MAX_CHANGES_PER_SECOND)) {
    throw new ChangeRateError(`is more than ${MAX_CHANGES_PER_SECOND} changes per second (the most is ${MAX_CHANGES_PER_SECOND}/s, ${MAX_CHANGES_PER_SECOND * 60}/m)`);
  }
  return { perSecond, text: `${trimmed(number)}/${unit}` };
}

/**
 * A rate given as changes per second (the configuration's number) as text in the simplest unit that shows it
 * whole: 2 → `2/s`, 0.1 → `6/m`, 1/3600 → `1/h`; otherwise per second with its decimals.
 */
export function describeChangeRate(perSecond: number): string {
  for (const [unit, seconds] of Object.entries(SECONDS_PER_UNIT)) {
    const count = perSecond * seconds;
    // 0.1 * 60 may come out a hair off 6 in binary
    if (Math.abs(count - Math.round(count)) < 1e-9 * Math.max(1, count)) return `${Math.round(count)}/${unit}`;
  }
  // toFixed, not String: String(1e-7) is "1e-7", which is no rate
  return `${trimmed(perSecond.toFixed(20))}/s`;
}

/** `007.50` → `7.5`, `0.0` → `0`: the same number, fewest digits, still matching CHANGE_RATE_PATTERN. */
function trimmed(number: string): string {
  let [whole, fraction = ''] = number.split('.');
  whole = whole.replace(/^0+(?=\d)/, '');
  fraction = fraction.replace(/0+$/, '');
  return fraction === '' ? whole : `${whole}.${fraction}`;
}
