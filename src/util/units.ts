/**
 * Durations ("250ms", "5s", "2m", "1h", "1d") and byte sizes ("512kb", "10mb") as written in config files and
 * chaos profiles. Hand-written rather than taken from `ms`/`bytes`: those accept loose forms ("1 day", "1.5 KB",
 * bare numbers meaning different units) and we want one strict grammar whose errors can say exactly what was
 * expected.
 */

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const BYTES = /^(\d+(?:\.\d+)?)(b|kb|mb|gb)$/i;

export const DURATION_FORMAT = 'a duration such as 250ms, 5s, 2m, 1h or 1d';
export const BYTES_FORMAT = 'a size such as 512kb, 10mb or a number of bytes';

/** Milliseconds for a duration string; throws with the expected format when it is not one. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not ${DURATION_FORMAT}`);
  return Math.round(Number(m[1]) * DURATION_UNITS_MS[m[2]]);
}

/** Bytes for a size string or a non-negative integer; throws with the expected format when it is neither. */
export function parseBytes(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0) return value;
    throw new Error(`${value} is not ${BYTES_FORMAT}`);
  }
  const m = BYTES.exec(value.trim());
  if (!m) throw new Error(`"${value}" is not ${BYTES_FORMAT}`);
  return Math.floor(Number(m[1]) * BYTE_UNITS[m[2].toLowerCase()]);
}
