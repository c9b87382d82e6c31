/**
 * The admin API (/__admin, JSON), on express: it is not on the traffic path, so convenience wins over speed here.
 * Every route acts on the workspace the transport resolved from the URL (/__admin → default,
 * /w/{ws}/__admin → ws). When an admin token is configured every route requires it as a bearer token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Engine } from '../engine/pipeline.js';
import { PROBLEM_JSON, problemType, statusTitle } from '../engine/problem.js';
import type { ResetScope, Workspace, Workspaces } from '../engine/workspace.js';
import { toFull, toSummary } from '../journal/views.js';
import { addChaosRoutes, type ChaosControl } from './chaos-routes.js';
import { encodeCursor, parseJournalQuery, QueryError } from './journal-query.js';

export interface AdminOptions {
  engine: Engine;
  workspaces: Workspaces;
  adminToken?: string;
  version: string;
  startedAt: number;
  chaos: ChaosControl;
}

const RESET_SCOPES: ResetScope[] = ['all', 'state', 'journal', 'chaos'];

type AdminRequest = Request & { workspace: Workspace };

function sendProblem(res: Response, status: number, slug: string, detail: string, extra: Record<string, unknown> = {}): void {
  res.status(status).type(PROBLEM_JSON).send(JSON.stringify({ type: problemType(slug), title: statusTitle(status), status, detail, ...extra }));
}

export function createAdminApp(options: AdminOptions): (req: IncomingMessage, res: ServerResponse, workspace: Workspace) => void {
  const { engine, workspaces } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  if (options.adminToken) {
    const expected = Buffer.from(`Bearer ${options.adminToken}`);
    app.use((req, res, next) => {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
      res.setHeader('www-authenticate', 'Bearer realm="understudy-admin"');
      sendProblem(res, 401, 'admin-token-required', 'The admin API needs Authorization: Bearer <admin token> (--admin-token / UNDERSTUDY_ADMIN_TOKEN).');
    });
  }
  const ws = (req: Request) => (req as AdminRequest).workspace;
  // every admin route sees the journal and counters complete, including exchanges finished a moment ago
  app.use((_req, _res, next) => {
    engine.flush();
    next();
  });

  // before the JSON body parser: profiles arrive as text (YAML or JSON) and keep their line numbers
  addChaosRoutes(app, options.chaos, ws, sendProblem);
  app.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }));

  app.get('/__admin/health', (req, res) => {
    res.json({
      status: 'ok',
      version: options.version,
      uptimeS: Math.round((engine.clock.now() - options.startedAt) / 1000),
      workspace: ws(req).name,
      systems: engine.systems.map((s) => ({ name: s.name, mount: s.mount, protocol: s.engine.protocol })),
    });
  });

  app.get('/__admin/journal', (req, res) => {
    const journal = ws(req).journal;
    const query = parseJournalQuery(req.query as Record<string, unknown>);
    const page = journal.query(query);
    res.json({
      entries: page.entries.map(toSummary),
      nextCursor: page.nextCursor === null ? null : encodeCursor(page.nextCursor),
      total: page.total,
      capacity: journal.capacity,
    });
  });

  app.get('/__admin/journal/:id', (req, res) => {
    const id = String(req.params.id);
    const entry = /^\d{1,15}$/.test(id) ? ws(req).journal.get(Number(id)) : undefined;
    if (!entry) return sendProblem(res, 404, 'no-such-entry', `The journal of workspace ${ws(req).name} has no entry ${id} (it may have rotated out).`);
    res.json(toFull(entry));
  });

  app.post('/__admin/reset', (req, res) => {
    const scope = (req.body as { scope?: unknown } | undefined)?.scope ?? 'all';
    if (!RESET_SCOPES.includes(scope as ResetScope)) {
      return sendProblem(res, 400, 'bad-reset-scope', `scope must be one of ${RESET_SCOPES.join(', ')}.`);
    }
    ws(req).reset(scope as ResetScope);
    res.json({ workspace: ws(req).name, reset: scope });
  });

  app.get('/__admin/workspace', (req, res) => {
    const w = ws(req);
    res.json({ name: w.name, seed: w.seed, createdAt: new Date(w.createdAt).toISOString(), counters: w.counters, journal: { entries: w.journal.length, capacity: w.journal.capacity } });
  });

  app.get('/__admin/workspaces', (_req, res) => {
    res.json({ limit: workspaces.limit, workspaces: workspaces.list().map((w) => ({ name: w.name, requests: w.counters.requests })) });
  });

  app.delete('/__admin/workspace', (req, res) => {
    const name = ws(req).name;
    if (!workspaces.delete(name)) return sendProblem(res, 409, 'default-workspace', 'The default workspace cannot be deleted; reset it instead.');
    res.json({ deleted: name });
  });

  app.use((req, res) => sendProblem(res, 404, 'no-such-admin-route', `${req.method} ${req.path} is not an admin route.`));

  // express 5 forwards thrown errors and rejected promises here
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof QueryError) return sendProblem(res, 400, 'bad-journal-query', err.message, { errors: err.errors });
    const e = err as { status?: number; type?: string; message?: string };
    if (e.type === 'entity.parse.failed') return sendProblem(res, 400, 'malformed-json', `The body is not valid JSON: ${e.message}`);
    if (e.type === 'entity.too.large') return sendProblem(res, 413, 'body-too-large', 'Admin request bodies are limited to 1 MB.');
    if (e.status && e.status >= 400 && e.status < 500) return sendProblem(res, e.status, 'bad-request', e.message ?? 'bad request');
    console.error('understudy admin error:', err);
    sendProblem(res, 500, 'internal', 'The admin API failed; see the server log.');
  });

  return (req, res, workspace) => {
    (req as AdminRequest).workspace = workspace;
    app(req as Request, res as Response);
  };
}
