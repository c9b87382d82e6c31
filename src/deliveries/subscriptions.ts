/**
 * A subscription as the admin API (POST /__admin/subscriptions) and the config file (`subscriptions:`) write it,
 * checked and turned into a stored Subscription, and the view the admin API shows of one (secrets never shown).
 *
 * Every problem is reported at once with the field it is about, so a 400 (or a config error with its line) says
 * exactly what to fix, and nothing is stored from input with any problem.
 */
import { unknownPattern } from '../events/event.js';
import { DURATION_FORMAT, parseDuration } from '../util/units.js';
import type { Subscription, TargetKind } from './delivery-book.js';
import { formatPolicy, parseRetryPolicy, type RetryPolicy } from './retry-policy.js';
import { parseSalesforceOptions } from './targets/salesforce-options.js';

export interface FieldProblem {
  /** the field, dotted (`retry.base`, `events.1`) */
  path: string;
  message: string;
}

/** What a subscription's input becomes: a Subscription but for what the book assigns (id, source, time). */
export type SubscriptionFields = Omit<Subscription, 'id' | 'source' | 'createdAt'>;

const TARGETS: TargetKind[] = ['webhook', 'salesforce-platform-event'];
const API_FIELDS = ['url', 'events', 'secret', 'target', 'retry', 'timeout', 'concurrency', 'salesforce'];
/** the config file also says which workspace a subscription belongs to, and may name it */
export const CONFIG_FIELDS = [...API_FIELDS, 'workspace', 'id'];
const MAX_TIMEOUT_MS = 10 * 60_000;
export const MAX_CONCURRENCY = 100;
const MAX_PATTERNS = 100;

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Checks a subscription's input. `knownEvents`: every event type the server's systems emit (a pattern that
 * matches none is a typo). `fields`: the fields allowed (API_FIELDS for the admin API, CONFIG_FIELDS for the file).
 */
export function parseSubscription(
  raw: unknown,
  knownEvents: readonly string[],
  defaults: { retry: RetryPolicy },
  fields: readonly string[] = API_FIELDS,
): { value: SubscriptionFields } | { errors: FieldProblem[] } {
  const errors: FieldProblem[] = [];
  if (!isMap(raw)) return { errors: [{ path: '', message: 'a subscription is a JSON object: { "url", "events", "secret", "target"?, "retry"?, "timeout"?, "concurrency"?, "salesforce"? }' }] };
  for (const key of Object.keys(raw)) if (!fields.includes(key)) errors.push({ path: key, message: `unknown field; a subscription has ${fields.join(', ')}` });

  const target = (raw.target ?? 'webhook') as TargetKind;
  if (!TARGETS.includes(target)) errors.push({ path: 'target', message: `must be one of ${TARGETS.join(', ')}` });

  const events: string[] = [];
  if (!Array.isArray(raw.events) || raw.events.length === 0) errors.push({ path: 'events', message: 'must be a non-empty list of event patterns, such as ["inventory.*"]' });
  else if (raw.events.length > MAX_PATTERNS) errors.push({ path: 'events', message: `at most ${MAX_PATTERNS} patterns` });
  else
    raw.events.forEach((p, i) => {
      if (typeof p !== 'string') return errors.push({ path: `events.${i}`, message: 'must be a string' });
      const problem = unknownPattern(p, knownEvents);
      if (problem) errors.push({ path: `events.${i}`, message: problem });
      else events.push(p);
    });

  let url = '';
  let secret: string | undefined;
  let salesforce: Subscription['salesforce'] = null;
  if (target === 'salesforce-platform-event') {
    if (raw.secret !== undefined) errors.push({ path: 'secret', message: 'Platform Events are authenticated with OAuth (salesforce.auth), not signed: remove secret' });
    if (raw.url !== undefined) errors.push({ path: 'url', message: 'a Platform Event subscription publishes to salesforce.instanceUrl: remove url' });
    if (raw.salesforce === undefined) errors.push({ path: 'salesforce', message: 'required for target salesforce-platform-event: { instanceUrl, eventObject, fields, auth }' });
    else {
      const parsed = parseSalesforceOptions(raw.salesforce);
      if ('errors' in parsed) errors.push(...parsed.errors.map((e) => ({ path: e.path.startsWith('salesforce') ? e.path : `salesforce.${e.path}`, message: e.message })));
      else {
        salesforce = parsed.value;
        url = parsed.value.instanceUrl;
      }
    }
  } else if (TARGETS.includes(target)) {
    if (raw.salesforce !== undefined) errors.push({ path: 'salesforce', message: 'only for target salesforce-platform-event' });
    const problem = checkUrl(raw.url);
    if (problem) errors.push({ path: 'url', message: problem });
    else url = raw.url as string;
    if (typeof raw.secret !== 'string' || raw.secret.length === 0) errors.push({ path: 'secret', message: 'required: every webhook is signed (Stripe-Signature), so give the secret its receiver verifies with' });
    else if (raw.secret.length > 1024) errors.push({ path: 'secret', message: 'at most 1024 characters' });
    else secret = raw.secret;
  }

  let retry: RetryPolicy | null = null;
  if (raw.retry !== undefined) {
    const parsed = parseRetryPolicy(raw.retry, defaults.retry);
    if ('errors' in parsed) errors.push(...parsed.errors.map((e) => ({ path: e.path.startsWith('retry') ? e.path : `retry${e.path ? '.' + e.path : ''}`, message: e.message })));
    else retry = parsed.value;
  }
  let timeoutMs: number | null = null;
  if (raw.timeout !== undefined) {
    const ms = durationOf(raw.timeout);
    if (ms === undefined || ms < 1 || ms > MAX_TIMEOUT_MS) errors.push({ path: 'timeout', message: `must be ${DURATION_FORMAT}, from 1ms to 10m` });
    else timeoutMs = ms;
  }
  let concurrency: number | null = null;
  if (raw.concurrency !== undefined) {
    if (!Number.isInteger(raw.concurrency) || (raw.concurrency as number) < 1 || (raw.concurrency as number) > MAX_CONCURRENCY) {
      errors.push({ path: 'concurrency', message: `must be an integer from 1 to ${MAX_CONCURRENCY}` });
    } else concurrency = raw.concurrency as number;
  }
  if (errors.length) return { errors };
  return {
    value: {
      target,
      url,
      events,
      secrets: secret === undefined ? [] : [{ secret, until: null }],
      retry,
      timeoutMs,
      concurrency,
      salesforce,
    },
  };
}

/** why a URL is not one deliveries can go to, or undefined */
export function checkUrl(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length === 0) return 'required: the http(s) URL deliveries are POSTed to';
  if (raw.length > 2048) return 'at most 2048 characters';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `"${raw}" is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http or https URL, not ${url.protocol.replace(':', '')}`;
  return undefined;
}

/** milliseconds of a duration string, or undefined when it is not one */
export function durationOf(raw: unknown): number | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    return parseDuration(raw);
  } catch {
    return undefined;
  }
}

/** What the admin API shows of a subscription: everything but its secrets. */
export function subscriptionView(s: Subscription, now: number): Record<string, unknown> {
  const rotating = s.secrets.filter((x) => x.until !== null && x.until > now);
  return {
    id: s.id,
    target: s.target,
    url: s.url,
    events: s.events,
    source: s.source,
    createdAt: new Date(s.createdAt).toISOString(),
    ...(s.target === 'webhook'
      ? { secret: { set: true, previousValidUntil: rotating.length ? new Date(Math.max(...rotating.map((x) => x.until!))).toISOString() : null } }
      : {}),
    retry: s.retry ? formatPolicy(s.retry) : null,
    timeout: s.timeoutMs === null ? null : `${s.timeoutMs}ms`,
    concurrency: s.concurrency,
    ...(s.salesforce
      ? {
          salesforce: {
            instanceUrl: s.salesforce.instanceUrl,
            tokenUrl: s.salesforce.tokenUrl,
            apiVersion: s.salesforce.apiVersion,
            eventObject: s.salesforce.eventObject,
            fields: s.salesforce.fields,
            auth: { grant: s.salesforce.auth.grant, clientId: s.salesforce.auth.clientId },
          },
        }
      : {}),
  };
}
