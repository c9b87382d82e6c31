/**
 * GET /__admin/payments/duplicates?window=1h: the payment gateway's probable double charges. Charges that are not
 * failed, made by the same client for the same customer, amount, currency and order reference (metadata.order_id,
 * else metadata.order_number, else the description) within `window` of each other. An idempotent replay makes no
 * charge, so a retry that kept its Idempotency-Key never shows here; one that minted a new key, or sent none, does.
 * This is the evidence the report card's `idempotency.noDuplicateEffects` check will use.
 */
import type { Express, Request, Response } from 'express';
import type { MountedSystem } from '../engine/system.js';
import type { Workspace } from '../engine/workspace.js';
import { findDuplicates, type PaymentsState } from '../systems/payments/index.js';
import { DURATION_FORMAT, parseDuration } from '../util/units.js';

type Send = (res: Response, status: number, slug: string, detail: string, extra?: Record<string, unknown>) => void;

/** how far apart two charges may be and still count as one order charged twice, unless ?window= says otherwise */
export const DEFAULT_DUPLICATE_WINDOW = '1h';
/** a window longer than the longest an idempotency key is usually kept would mostly find repeat customers */
const MAX_WINDOW_MS = 7 * 24 * 3_600_000;

export function addPaymentsRoutes(app: Express, workspaceOf: (req: Request) => Workspace, sendProblem: Send, systems: readonly MountedSystem[]): void {
  // the built-in gateway (it emits events), not a --contract mounted at /payments (which would be named payments too)
  const payments = systems.find((s) => s.name === 'payments' && s.events !== undefined);

  app.get('/__admin/payments/duplicates', (req, res) => {
    if (payments === undefined) {
      return sendProblem(res, 404, 'no-payments', 'The payment gateway is not mounted on this server (systems.payments.enabled: false), so it has no charges.');
    }
    const unknown = Object.keys(req.query).filter((k) => k !== 'window');
    if (unknown.length) return sendProblem(res, 400, 'bad-query', `Unknown query parameter ${unknown.join(', ')}; this route takes window (e.g. window=10m).`);
    const window = req.query.window ?? DEFAULT_DUPLICATE_WINDOW;
    let windowMs: number;
    try {
      if (typeof window !== 'string') throw new Error('give it once');
      windowMs = parseDuration(window);
    } catch {
      return sendProblem(res, 400, 'bad-window', `window must be ${DURATION_FORMAT} (e.g. 10m), at most 7d.`);
    }
    if (windowMs <= 0 || windowMs > MAX_WINDOW_MS) return sendProblem(res, 400, 'bad-window', `window must be more than 0 and at most 7d, not ${window}.`);
    const state = workspaceOf(req).states.get(payments) as PaymentsState;
    res.json({ window, duplicates: findDuplicates(state, windowMs) });
  });
}
