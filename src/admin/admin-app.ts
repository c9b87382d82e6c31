/**
 * The admin API (/__admin, JSON), on express: it is not on the traffic path, so convenience wins over speed here.
 * Every route acts on the workspace the transport resolved from the URL (/__admin → default,
 * /w/{ws}/__admin → ws). When an admin token is configured every route requires it as a bearer token.
 *
 * Admin writes take JSON (PRODUCT.md §5; PUT /__admin/chaos, which takes YAML or JSON, has its own route file):
 * a body of any other media type is refused with 415 and one that is not the JSON a route expects with 400,
 * before anything changes. Express's JSON parser alone would skip a form-encoded body, and a reset that reads
 * "no body" where the caller sent {"scope":"journal"} as a form wipes everything.
 */
import { isUtf8 } from 'node:buffer';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Engine } from '../engine/pipeline.js';
import { PROBLEM_JSON, problemType, statusTitle } from '../engine/problem.js';
import type { ResetScope, Workspace, Workspaces } from '../engine/workspace.js';
import { toFull, toSummary } from '../journal/views.js';
import { StoreUnavailableError } from '../store/store.js';
import { addChaosRoutes, type ChaosControl } from './chaos-routes.js';
import { addClientRoutes } from './client-routes.js';
import { addJournalRoutes } from './journal-routes.js';
import { addDeliveryRoutes, type DeliveryControl } from './delivery-routes.js';
import { encodeCursor, parseJournalQuery, QueryError } from './journal-query.js';
import { addOutboundRoutes } from './outbound-routes.js';
import { addPaymentsRoutes } from './payments-routes.js';
import { addReportRoutes } from './report-routes.js';
import { addSimulationRoutes } from './simulation-routes.js';

export interface AdminOptions {
  engine: Engine;
  workspaces: Workspaces;
  adminToken?: string;
  version: string;
  startedAt: number;
  chaos: ChaosControl;
  deliveries: DeliveryControl;
  /** where state is stored; null: in memory only */
  dataDir: string | null;
  /** replicas (--redis): this replica's id, whether Redis answers, how far behind the shared logs it is */
  replica?: () => Promise<ReplicaHealth>;
}

export interface ReplicaHealth {
  id: string;
  redis: 'up' | 'down';
  /** ms of writes (by their log time) the replica has not applied yet: the most of any workspace, and per workspace */
  lag: { ms: number; workspaces: Record<string, number> };
  /** the replicas whose heartbeat Redis has seen in the last few seconds */
  replicas?: string[];
}

const RESET_SCOPES: ResetScope[] = ['all', 'state', 'journal', 'chaos', 'deliveries'];

type AdminRequest = Request & { workspace: Workspace };

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const JSON_TYPES = ['application/json', 'application/*+json'];

/** the sizes of the bodies the JSON parser read, so that a chunked body of 0 bytes counts as empty */
const bodySizes = new WeakMap<IncomingMessage, number>();

/** Whether the request carries a body at all (as node:http frames it: a non-zero length, or chunks). */
function sentBody(req: Request): boolean {
  const declared = req.headers['content-length'];
  if (declared !== undefined) return declared !== '0';
  if (req.headers['transfer-encoding'] === undefined) return false;
  return (bodySizes.get(req) ?? 1) > 0;
}

/** Admin writes with a body must send JSON; anything else is refused before it is read. */
function jsonWritesOnly(req: Request, res: Response, next: NextFunction): void {
  if (!WRITE_METHODS.has(req.method) || !sentBody(req) || req.is(JSON_TYPES)) return next();
  const given = req.headers['content-type'] ? `content-type ${req.headers['content-type']}` : 'no content-type';
  sendProblem(res, 415, 'unsupported-media-type', `Admin writes take JSON: send content-type: application/json (this request had ${given}). Nothing was changed.`);
}

/** body-parser's verify hook: records the size and refuses bytes that are not UTF-8, which JSON must be */
function checkUtf8(req: IncomingMessage, _res: ServerResponse, body: Buffer, encoding: string): void {
  bodySizes.set(req, body.length);
  if (encoding.toLowerCase().replace('-', '') === 'utf8' && !isUtf8(body)) {
    throw Object.assign(new Error('The body is not valid UTF-8.'), { type: 'entity.invalid.utf8' });
  }
}

/**
 * The scope a reset asks for. No body (or an empty one) means everything; a body must be exactly
 * {"scope": one of RESET_SCOPES}, so that a body meant to say something narrower is never read as "all".
 */
function resetScopeOf(req: Request): { scope: ResetScope } | { problem: string } {
  const shape = `{"scope": ${RESET_SCOPES.map((s) => `"${s}"`).join(' | ')}}`;
  if (!sentBody(req)) return { scope: 'all' };
  const body: unknown = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { problem: `The body must be a JSON object, ${shape}.` };
  const unknown = Object.keys(body).filter((k) => k !== 'scope');
  if (unknown.length) return { problem: `Unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: the body is ${shape}.` };
  const { scope } = body as { scope?: unknown };
  if (scope === undefined) return { problem: `Name the scope, ${shape}, or send no body to reset everything.` };
  if (!RESET_SCOPES.includes(scope as ResetScope)) return { problem: `scope must be one of ${RESET_SCOPES.join(', ')}.` };
  return { scope: scope as ResetScope };
}

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
  app.use((req, _res, next) => {
    engine.flush();
    // replicas: what the admin API shows includes every write acknowledged on any replica
    const shared = ws(req).store.shared;
    if (shared === undefined) return next();
    shared.caughtUp().then(() => next(), next);
  });

  // before the JSON body parser: profiles arrive as text (YAML or JSON) and keep their line numbers
  addChaosRoutes(app, options.chaos, ws, sendProblem, engine);
  app.use(jsonWritesOnly);
  // not strict: "all" or 5 parse, and the route says what shape it wanted instead of a parser message
  app.use(express.json({ limit: '1mb', type: JSON_TYPES, strict: false, verify: checkUtf8 }));
  addSimulationRoutes(app, ws, sendProblem, engine.systems);
  addPaymentsRoutes(app, ws, sendProblem, engine.systems);
  addOutboundRoutes(app, ws, sendProblem, engine.systems);
  addReportRoutes(app, ws, sendProblem, engine);
  addClientRoutes(app, ws, sendProblem, engine.systems);

  app.get('/__admin/health', async (req, res) => {
    const replica = await options.replica?.();
    res.json({
      // a replica that cannot reach Redis serves reads but refuses writes (503)
      status: replica?.redis === 'down' ? 'degraded' : 'ok',
      version: options.version,
      uptimeS: Math.round((engine.clock.now() - options.startedAt) / 1000),
      workspace: ws(req).name,
      systems: engine.systems.map((s) => ({ name: s.name, mount: s.mount, protocol: s.engine.protocol })),
      store: { dataDir: options.dataDir },
      ...(replica ? { replica } : {}),
    });
  });

  // the journal's two routes (caught up first with what other replicas recorded, when replicas share it)
  addJournalRoutes(app, ws, sendProblem);

  addDeliveryRoutes(app, options.deliveries, ws, sendProblem);

  app.post('/__admin/reset', async (req, res) => {
    const asked = resetScopeOf(req);
    if ('problem' in asked) return sendProblem(res, 400, 'bad-reset-scope', `${asked.problem} Nothing was reset.`);
    await ws(req).reset(asked.scope);
    res.json({ workspace: ws(req).name, reset: asked.scope });
  });

  app.get('/__admin/workspace', (req, res) => {
    const w = ws(req);
    res.json({
      name: w.name,
      seed: w.seed,
      createdAt: new Date(w.createdAt).toISOString(),
      counters: w.counters,
      journal: { entries: w.journal.length, capacity: w.journal.capacity },
      deliveries: w.events.book.summary(),
    });
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
    if (err instanceof StoreUnavailableError) {
      res.setHeader('retry-after', '1');
      return sendProblem(res, 503, 'store-unavailable', `Nothing was changed: ${err.message}.`);
    }
    const e = err as { status?: number; type?: string; message?: string };
    if (e.type === 'entity.parse.failed') return sendProblem(res, 400, 'malformed-json', `The body is not valid JSON (${e.message}). Nothing was changed.`);
    if (e.type === 'entity.invalid.utf8') return sendProblem(res, 400, 'malformed-json', 'The body is not valid UTF-8, so not JSON. Nothing was changed.');
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
