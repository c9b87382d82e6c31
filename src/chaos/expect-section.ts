/**
 * The profile's `expect:` section (PRODUCT.md §4 and §8, issue #10 item 5): what a drill must show, compiled into
 * the report card's Expectation[] (src/report/types.ts). Checked like the rest of the profile, every problem at
 * once with its path (profile.ts turns paths into lines and columns), so that a drill never runs for minutes only
 * to find its expectations cannot be judged:
 *
 *   expect:
 *     - check: retry.respectsRetryAfter                      # that check is pass or warn for every client that called
 *     - { check: breaker.stopsDuringOutage, client: sf-sandbox }   # ... for this client
 *     - alertWithin: 2m                                      # an alert reached a fake sink this soon after the outage began
 *     - maxDuplicateEffects: 0                               # duplicate side effects, at most
 *     - recoveredWithin: 1m                                  # first success this soon after an outage window closed
 *
 * One expectation per item. `written` keeps the item as the profile wrote it: the report echoes it as `expect`.
 */
import { CHECK_IDS, DRILL_CHECK_IDS, type CheckId, type Expectation } from '../report/types.js';
import { CLIENT_NAME } from '../engine/seams.js';
import { suggestion } from '../util/did-you-mean.js';
import { DURATION_FORMAT, parseDuration } from '../util/units.js';

type Path = Array<string | number>;

/** Where a problem is reported: `at: 'key'` points at a key that should not be there. */
export type ExpectProblemSink = (path: Path, message: string, at?: 'key' | 'value') => void;

/** a drill states a handful; far more is a generated file gone wrong */
export const MAX_EXPECTATIONS = 100;

const KINDS = ['check', 'alertWithin', 'maxDuplicateEffects', 'recoveredWithin'] as const;
const KEYS: readonly string[] = [...KINDS, 'client'];
const FORMS = '- check: ID, - { check: ID, client: NAME }, - alertWithin: 2m, - maxDuplicateEffects: 0 or - recoveredWithin: 1m';
const DRILL_WIDE: readonly string[] = DRILL_CHECK_IDS;

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A duration that can hold: a well-formed one above 0 (no alert or recovery comes within 0 ms). */
function positiveDuration(value: unknown, path: Path, report: ExpectProblemSink): number | undefined {
  let ms: number | undefined;
  if (typeof value === 'string') {
    try {
      ms = parseDuration(value);
    } catch {
      // reported below
    }
  }
  if (ms === undefined) report(path, `must be ${DURATION_FORMAT}`);
  else if (ms === 0) report(path, 'must be longer than 0: nothing happens within 0 ms, so it could never hold');
  return ms || undefined;
}

function compileItem(item: unknown, path: Path, report: ExpectProblemSink): Expectation | undefined {
  if (item === null || item === undefined || (isMap(item) && Object.keys(item).length === 0)) {
    report(path, `an empty expectation; write one of ${FORMS}`);
    return undefined;
  }
  if (!isMap(item)) {
    const hint = typeof item === 'string' && (CHECK_IDS as readonly string[]).includes(item) ? ` (write - check: ${item})` : '';
    report(path, `an expectation is a map: ${FORMS}${hint}`);
    return undefined;
  }
  let problems = 0;
  const count: ExpectProblemSink = (p, m, at) => {
    problems++;
    report(p, m, at);
  };
  for (const key of Object.keys(item)) {
    if (!KEYS.includes(key)) count([...path, key], `unknown expectation key${suggestion(key, KEYS, `use one of ${KEYS.join(', ')}`)}`, 'key');
  }
  const kinds = KINDS.filter((k) => k in item);
  if (kinds.length === 0) {
    if (problems === 0) count(path, `name what is expected: ${FORMS}`);
    return undefined;
  }
  if (kinds.length > 1) {
    count([...path, kinds[1]], `one expectation per item: this item already says ${kinds[0]}; give ${kinds[1]} its own - item`, 'key');
    return undefined;
  }
  const kind = kinds[0];
  const value = item[kind];
  if ('client' in item && kind !== 'check') count([...path, 'client'], `client goes with check only: ${kind} is judged over the whole drill`, 'key');

  let compiled: Expectation | undefined;
  switch (kind) {
    case 'check': {
      let check: CheckId | undefined;
      if (typeof value !== 'string') count([...path, 'check'], `must be a check id: ${CHECK_IDS.join(', ')}`);
      else if (!(CHECK_IDS as readonly string[]).includes(value)) count([...path, 'check'], `unknown check "${value}"${suggestion(value, CHECK_IDS, `known: ${CHECK_IDS.join(', ')}`)}`);
      else check = value as CheckId;
      let client: string | undefined;
      if ('client' in item) {
        const c = item.client;
        if (typeof c !== 'string' || !CLIENT_NAME.test(c)) {
          count([...path, 'client'], 'must be a client name as the server resolves it: 1-80 of A-Z a-z 0-9 . _ : @ -');
        } else if (check !== undefined && DRILL_WIDE.includes(check)) {
          count([...path, 'client'], `${check} judges the drill as a whole, not one client: drop client`, 'key');
        } else client = c;
      }
      if (check !== undefined) compiled = { kind: 'check', check, ...(client !== undefined ? { client } : {}), written: item };
      break;
    }
    case 'alertWithin':
    case 'recoveredWithin': {
      const ms = positiveDuration(value, [...path, kind], count);
      if (ms !== undefined) compiled = { kind, ms, written: item };
      break;
    }
    case 'maxDuplicateEffects':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) count([...path, kind], 'must be a whole number, 0 or more');
      else compiled = { kind, count: value, written: item };
      break;
  }
  return problems === 0 ? compiled : undefined;
}

/**
 * Compiles the `expect:` list (raw: its plain JS value; absent or null: none). Reports every problem through
 * `report`; what it returns is only meaningful when nothing was reported.
 */
export function compileExpectations(raw: unknown, path: Path, report: ExpectProblemSink): Expectation[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    report(path, `expect is a list: ${FORMS}`);
    return [];
  }
  if (raw.length > MAX_EXPECTATIONS) {
    report(path, `at most ${MAX_EXPECTATIONS} expectations (this list has ${raw.length})`);
    return [];
  }
  const out: Expectation[] = [];
  raw.forEach((item, i) => {
    const e = compileItem(item, [...path, i], report);
    if (e) out.push(e);
  });
  return out;
}
