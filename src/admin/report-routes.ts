/**
 * GET /__admin/report?since=&until=&client=: the client report card (PRODUCT.md §8, src/report/). `since` and
 * `until` take ISO 8601 or ms since the epoch (default: the active profile's start, and now); the thresholds the
 * checks judge by may be tuned per report: maxAttempts, maxSpan, retryWindow (durations) and breakerFailures.
 * Anything else, or a value that does not parse, is refused with every problem named. With replicas (--redis) the
 * journal is brought up to date first, so the card covers every replica's exchanges (journal-routes.ts).
 */
import type { Express, Request, Response } from 'express';
import type { Engine } from '../engine/pipeline.js';
import type { Workspace } from '../engine/workspace.js';
import { buildReport } from '../report/report.js';
import { parseTime } from './journal-query.js';
import { caughtUp } from './journal-routes.js';
import type { ReportSettings } from '../report/context.js';
import { DURATION_FORMAT, parseDuration } from '../util/units.js';

type Send = (res: Response, status: number, slug: string, detail: string, extra?: Record<string, unknown>) => void;

const DURATIONS = { maxSpan: 'maxSpanMs', retryWindow: 'retryWindowMs' } as const;
const COUNTS = { maxAttempts: 'maxAttempts', breakerFailures: 'breakerFailures' } as const;
const KNOWN = ['since', 'until', 'client', ...Object.keys(DURATIONS), ...Object.keys(COUNTS)];

export function addReportRoutes(app: Express, workspaceOf: (req: Request) => Workspace, sendProblem: Send, engine: Engine): void {
  app.get('/__admin/report', async (req, res) => {
    const errors: Array<{ name: string; message: string }> = [];
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.query)) {
      if (!KNOWN.includes(name)) errors.push({ name, message: `unknown; this route takes ${KNOWN.join(', ')}` });
      else if (typeof value !== 'string') errors.push({ name, message: 'give it once, as a plain value' });
      else values[name] = value;
    }
    const time = (name: 'since' | 'until') => {
      if (values[name] === undefined) return undefined;
      const ms = parseTime(values[name]);
      if (ms === undefined) errors.push({ name, message: 'must be an ISO 8601 time or ms since the epoch' });
      return ms;
    };
    const since = time('since');
    const until = time('until');
    if (since !== undefined && until !== undefined && since > until) errors.push({ name: 'until', message: 'must not be before since' });
    const now = engine.clock.now();
    if (since !== undefined && until === undefined && since > now) errors.push({ name: 'since', message: 'is in the future: the window would end (now) before it starts' });
    const client = values.client;
    if (client !== undefined && (client.length === 0 || client.length > 200)) errors.push({ name: 'client', message: 'must be 1-200 characters' });
    const settings: Partial<ReportSettings> = {};
    for (const [name, field] of Object.entries(DURATIONS)) {
      if (values[name] === undefined) continue;
      try {
        const ms = parseDuration(values[name]);
        if (ms <= 0 || ms > 7 * 86_400_000) throw new Error();
        settings[field] = ms;
      } catch {
        errors.push({ name, message: `must be ${DURATION_FORMAT}, more than 0 and at most 7d` });
      }
    }
    for (const [name, field] of Object.entries(COUNTS)) {
      if (values[name] === undefined) continue;
      if (!/^\d{1,6}$/.test(values[name]) || Number(values[name]) < 1) errors.push({ name, message: 'must be a whole number from 1 to 999999' });
      else settings[field] = Number(values[name]);
    }
    if (errors.length) return sendProblem(res, 400, 'bad-query', errors.map((e) => `${e.name}: ${e.message}`).join('; '), { errors });
    if (!(await caughtUp(workspaceOf(req), res, sendProblem))) return;
    res.json(buildReport(workspaceOf(req), engine.systems, { since, until, client, now, settings }));
  });
}
