/**
 * The PagerDuty Events API v2 sink: takes an alert event (trigger, acknowledge, resolve) and answers as PagerDuty
 * does, `202 {"status": "success", "message": "Event processed", "dedup_key"}`, or `400 {"status": "invalid
 * event", "message": "Event object is invalid", "errors": [...]}` with one sentence per problem. The contract
 * finds the problems (required fields per action included); this file words them as PagerDuty's errors read
 * ("'payload.summary' is missing"), for the engine's refusals and the handler's own alike.
 */
import { createHash } from 'node:crypto';
import type { ContractError } from '../../engine/exchange.js';
import type { EngineError, RestRequest, RestResult } from '../../protocols/rest/handler.js';
import { canonicalJson, MAX_DEPTH, nestedDeeperThan } from './json-shape.js';

/** What the sink's handlers read from the workspace: only the seed, for the keys it derives. */
export interface AlertsState {
  seed: number;
}

interface PagerDutyEvent {
  dedup_key?: string;
}

export function pagerDutyEnqueue(req: RestRequest, state: AlertsState): RestResult {
  const event = req.body as PagerDutyEvent;
  if (nestedDeeperThan(event, MAX_DEPTH)) return invalidEvent([`The event is nested more than ${MAX_DEPTH} levels deep`]);
  const dedupKey = event.dedup_key ?? derivedDedupKey(req.workspace, state.seed, event);
  // the key joins the journal entry, so that a retried trigger without its own key is still one alert there
  return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey }, key: dedupKey };
}

/**
 * PagerDuty makes up a random key for a trigger that brings none; understudy must be deterministic, so the key
 * is a digest of the workspace, the seed and the event: the same event (whatever its key order) gets the same
 * key on every run, and so a retry of it is recognisably the same alert.
 */
export function derivedDedupKey(workspace: string, seed: number, event: unknown): string {
  return createHash('sha256').update(`pagerduty\n${workspace}\n${seed}\n${canonicalJson(event)}`).digest('hex').slice(0, 32);
}

function invalidEvent(errors: string[]): RestResult {
  return { status: 400, body: invalidBody(errors) };
}

function invalidBody(errors: string[]): { status: string; message: string; errors: string[] } {
  return { status: 'invalid event', message: 'Event object is invalid', errors };
}

/** PagerDuty's 400 body for a request the engine refused before the handler ran. */
export function pagerDutyErrorOf(error: EngineError): unknown {
  const found = (error.errors ?? []).map(sentence).filter((s): s is string => s !== undefined);
  return invalidBody(found.length ? found : [error.detail]);
}

const ROUTING_KEY_HINT = 'it is the integration key of a PagerDuty service, 32 characters';

/** One contract violation as a sentence in PagerDuty's manner; undefined for the ones that only repeat another. */
function sentence(e: ContractError): string | undefined {
  // an if/then rule that failed says so besides saying what is missing: the missing field is the news
  if (/^must match "(then|else)" schema$/.test(e.message)) return undefined;
  if (e.in !== 'body') return e.in === 'content-type' ? `The event must be sent as JSON: ${e.message}` : capitalised(e.message);
  const field = fieldOf(e.pointer ?? '');
  if (field === undefined) {
    if (e.message === 'must be object') return 'The event must be a JSON object';
    if (e.message === 'a request body is required') return 'The body is empty: send the event as a JSON object';
    return capitalised(e.message);
  }
  const hint = field === 'routing_key' ? ` (${ROUTING_KEY_HINT})` : '';
  if (e.message.startsWith('must have required property')) return `'${field}' is missing${hint}`;
  if (e.message === 'must NOT have fewer than 1 characters') return `'${field}' is blank${hint}`;
  const longer = /^must NOT have more than (\d+) characters$/.exec(e.message);
  if (longer) return `'${field}' is longer than ${longer[1]} characters`;
  const article = /^must be (object|array)$/.exec(e.message);
  if (article) return `'${field}' must be an ${article[1]}`;
  const type = /^must be (string|number|integer|boolean)$/.exec(e.message);
  if (type) return `'${field}' must be a ${type[1]}`;
  return `'${field}' ${e.message.replace(/^must be equal to one of the allowed values: /, 'must be one of ')}`;
}

/** `/payload/summary` as `payload.summary`, `/images/0/src` as `images[0].src`; undefined for the whole body */
function fieldOf(pointer: string): string | undefined {
  if (pointer === '') return undefined;
  let field = '';
  for (const raw of pointer.split('/').slice(1)) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    field += /^\d+$/.test(token) ? `[${token}]` : field === '' ? token : `.${token}`;
  }
  return field;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
