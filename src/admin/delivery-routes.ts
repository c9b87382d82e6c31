/**
 * The admin routes of subscriptions and deliveries (PRODUCT.md §5):
 *
 *   POST   /__admin/subscriptions                    { url, events, secret, target?, retry?, timeout?, concurrency?, salesforce? } → 201
 *   GET    /__admin/subscriptions[/{id}]
 *   DELETE /__admin/subscriptions/{id}               (config-file subscriptions are the file's: 409)
 *   POST   /__admin/subscriptions/{id}/rotate-secret { secret, grace } → 200
 *   GET    /__admin/deliveries?subscription=&event=&status=&limit=&cursor=
 *   POST   /__admin/deliveries/{id}/redeliver        → 202
 *
 * Every change is answered once it is committed to the workspace's store: what the admin API acknowledged
 * survives a restart. Bad input gets a 400 naming each field at fault, and nothing is stored.
 *
 * Replicas (`--redis`): changes are answered once applied here from the shared log, and reads first catch up with
 * it, so any replica shows every subscription, delivery and attempt, whichever replica made them.
 */
import type { Express, Request, Response } from 'express';
import type { Delivery, DeliveryStatus } from '../deliveries/delivery-book.js';
import type { RetryPolicy } from '../deliveries/retry-policy.js';
import { durationOf, parseSubscription, subscriptionView, type FieldProblem } from '../deliveries/subscriptions.js';
import type { Workspace } from '../engine/workspace.js';
import { DURATION_FORMAT } from '../util/units.js';

type Send = (res: Response, status: number, slug: string, detail: string, extra?: Record<string, unknown>) => void;

export interface DeliveryControl {
  /** every event type the mounted systems emit */
  knownEvents: readonly string[];
  /** the server's retry policy, which a subscription's `retry` overrides field by field */
  retry: RetryPolicy;
  /** the server's clock (a ManualClock in tests) */
  now(): number;
}

const STATUSES: DeliveryStatus[] = ['pending', 'retrying', 'delivered', 'dead'];
const QUERY = ['subscription', 'event', 'status', 'limit', 'cursor'];
const MAX_GRACE_MS = 30 * 86_400_000;

export function addDeliveryRoutes(app: Express, control: DeliveryControl, workspaceOf: (req: Request) => Workspace, sendProblem: Send): void {
  const invalid = (res: Response, errors: FieldProblem[], what: string) =>
    sendProblem(res, 400, 'invalid-subscription', `${what} has ${errors.length} problem(s); nothing was stored.`, { errors: errors.map((e) => ({ field: e.path, message: e.message })) });

  app.post('/__admin/subscriptions', async (req, res) => {
    const parsed = parseSubscription(req.body, control.knownEvents, { retry: control.retry });
    if ('errors' in parsed) return invalid(res, parsed.errors, 'The subscription');
    const events = workspaceOf(req).events;
    const { subscription, committed } = events.subscribe(parsed.value);
    // as stored (replicas: under another id when another replica's subscription took the one chosen)
    const stored = (await committed) ?? subscription;
    res.status(201).json(subscriptionView(stored, control.now()));
  });

  app.get('/__admin/subscriptions', async (req, res) => {
    await caughtUp(workspaceOf(req));
    const now = control.now();
    res.json({ subscriptions: workspaceOf(req).events.book.subscriptions().map((s) => subscriptionView(s, now)) });
  });

  app.get('/__admin/subscriptions/:id', async (req, res) => {
    await caughtUp(workspaceOf(req));
    const subscription = workspaceOf(req).events.book.subscription(String(req.params.id));
    if (!subscription) return noSubscription(res, req);
    res.json(subscriptionView(subscription, control.now()));
  });

  app.delete('/__admin/subscriptions/:id', async (req, res) => {
    await caughtUp(workspaceOf(req));
    const events = workspaceOf(req).events;
    const subscription = events.book.subscription(String(req.params.id));
    if (!subscription) return noSubscription(res, req);
    if (subscription.source === 'config') {
      return sendProblem(res, 409, 'config-subscription', `Subscription ${subscription.id} is declared in the config file; remove it there.`);
    }
    await events.unsubscribe(subscription.id);
    res.json({ deleted: subscription.id });
  });

  app.post('/__admin/subscriptions/:id/rotate-secret', async (req, res) => {
    await caughtUp(workspaceOf(req));
    const events = workspaceOf(req).events;
    const subscription = events.book.subscription(String(req.params.id));
    if (!subscription) return noSubscription(res, req);
    const body: unknown = req.body;
    const errors: FieldProblem[] = [];
    let graceMs = 0;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) errors.push({ path: '', message: 'the body is { "secret": "...", "grace": "24h" }' });
    else {
      const { secret, grace, ...rest } = body as Record<string, unknown>;
      for (const key of Object.keys(rest)) errors.push({ path: key, message: 'unknown field; use secret and grace' });
      if (subscription.target !== 'webhook') errors.push({ path: 'secret', message: 'only webhooks are signed; this subscription publishes Platform Events' });
      else if (typeof secret !== 'string' || secret.length === 0 || secret.length > 1024) errors.push({ path: 'secret', message: 'required: the new secret, 1 to 1024 characters' });
      if (grace !== undefined) {
        const ms = grace === 0 || grace === '0' ? 0 : durationOf(grace);
        if (ms === undefined || ms > MAX_GRACE_MS) errors.push({ path: 'grace', message: `must be ${DURATION_FORMAT} (at most 30d), or 0: how long the old secret still signs` });
        else graceMs = ms;
      }
    }
    if (errors.length) return invalid(res, errors, 'The rotation');
    await events.rotateSecret(subscription.id, (body as { secret: string }).secret, graceMs);
    res.json(subscriptionView(subscription, control.now()));
  });

  app.get('/__admin/deliveries', async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const errors: Array<{ name: string; message: string }> = [];
    for (const name of Object.keys(query)) if (!QUERY.includes(name)) errors.push({ name, message: `unknown filter; use ${QUERY.join(', ')}` });
    const single = (name: string): string | undefined => {
      const v = query[name];
      if (v === undefined) return undefined;
      if (typeof v !== 'string') errors.push({ name, message: 'give it once, as a plain value' });
      return typeof v === 'string' ? v : undefined;
    };
    const subscription = single('subscription');
    const event = single('event');
    const status = single('status');
    if (status !== undefined && !STATUSES.includes(status as DeliveryStatus)) errors.push({ name: 'status', message: `must be one of ${STATUSES.join(', ')}` });
    const limitText = single('limit');
    const limit = limitText === undefined ? 100 : /^\d{1,4}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= 1000)) errors.push({ name: 'limit', message: 'must be an integer from 1 to 1000' });
    const cursorText = single('cursor');
    const before = cursorText === undefined ? Infinity : decodeCursor(cursorText);
    if (before === undefined) errors.push({ name: 'cursor', message: 'is not a cursor this API gave out (use nextCursor as it is)' });
    if (errors.length) {
      return sendProblem(res, 400, 'bad-deliveries-query', errors.map((e) => `${e.name}: ${e.message}`).join('; '), { errors });
    }
    // what is shown is on disk: an attempt made a moment ago is listed once its record is committed
    await workspaceOf(req).store.whenCommitted();
    await caughtUp(workspaceOf(req));
    const book = workspaceOf(req).events.book;
    const page: Delivery[] = [];
    let nextCursor: string | null = null;
    for (const d of book.newestFirst(before)) {
      if (subscription !== undefined && d.subscription !== subscription) continue;
      if (event !== undefined && d.eventId !== event) continue;
      if (status !== undefined && d.status !== status) continue;
      if (page.length === limit) {
        nextCursor = encodeCursor(page[page.length - 1].n);
        break;
      }
      page.push(d);
    }
    res.json({ deliveries: page.map(deliveryView), nextCursor });
  });

  app.post('/__admin/deliveries/:id/redeliver', async (req, res) => {
    await caughtUp(workspaceOf(req));
    const events = workspaceOf(req).events;
    const delivery = events.book.delivery(String(req.params.id));
    if (!delivery) return sendProblem(res, 404, 'no-such-delivery', `Workspace ${workspaceOf(req).name} has no delivery ${String(req.params.id)} (finished ones are kept up to limits.objects).`);
    if (!events.book.subscription(delivery.subscription)) {
      return sendProblem(res, 409, 'subscription-gone', `The subscription of ${delivery.id} (${delivery.subscription}) no longer exists.`);
    }
    if (events.dispatcher.inFlightFor(delivery)) return sendProblem(res, 409, 'attempt-in-flight', `An attempt of ${delivery.id} is under way; ask again once it is answered.`);
    await events.redeliver(delivery);
    res.status(202).json(deliveryView(delivery));
  });

  function noSubscription(res: Response, req: Request): void {
    sendProblem(res, 404, 'no-such-subscription', `Workspace ${workspaceOf(req).name} has no subscription ${String(req.params.id)}.`);
  }
}

/** Replicas: resolves once the workspace's book holds every change made anywhere before the request. */
function caughtUp(workspace: Workspace): Promise<void> | undefined {
  return workspace.store.shared?.caughtUp();
}

/** A delivery as the admin API shows it. */
export function deliveryView(d: Delivery): Record<string, unknown> {
  return {
    id: d.id,
    subscription: d.subscription,
    eventId: d.eventId,
    eventType: d.eventType,
    system: d.system,
    status: d.status,
    duplicates: d.duplicates,
    queuedAt: new Date(d.queuedAt).toISOString(),
    timeToAckMs: d.ackedAt === null ? null : Math.max(0, Math.round(d.ackedAt - d.queuedAt)),
    nextAttemptAt: d.nextAt === null ? null : new Date(d.nextAt).toISOString(),
    held: d.held,
    faults: d.plan?.faults ?? [],
    attempts: d.attempts.map((a) => ({ at: new Date(a.at).toISOString(), status: a.status, latencyMs: a.latencyMs, error: a.error, faults: a.faults })),
  };
}

function encodeCursor(n: number): string {
  return Buffer.from(`d${n}`).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  if (cursor.length > 40 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const m = /^d(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  return m ? Number(m[1]) : undefined;
}
