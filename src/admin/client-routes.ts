/**
 * The authorization server's clients (PRODUCT.md §5):
 *   POST /__admin/clients               register one (a config client's fields as JSON, `certificate` as PEM text,
 *                                       `jwks` as an object, plus `requirePkce`, `ipAllowlist`) → 201; a bad field
 *                                       → 400 with `errors[]` naming each; a taken id → 409
 *   GET  /__admin/clients[/{id}]        what is registered (config clients too), secrets never shown
 *   POST /__admin/clients/{id}/rotate   `{ "grace": "1h" }` (default 1h, "0s": none) → 200 `{ id, secret }`: a new
 *                                       secret; the old one is accepted until the grace ends, then invalid_client
 * Per workspace: a client registered at /w/{ws}/__admin/clients is known in {ws} only (config clients everywhere).
 * Registration and rotation are commands on the authorization server's state: logged, so they survive a restart.
 */
import type { Express, Request, Response } from 'express';
import { certificateValidTo, parseClient } from '../auth/clients.js';
import { AUTH_SYSTEM } from '../auth/server/mount.js';
import { AUTH_COMMANDS, clientOf, hashSecret, newSecret, storedClient, type AuthState, type StoredClient } from '../auth/server/state.js';
import { CommandError, type MountedSystem } from '../engine/system.js';
import type { Workspace } from '../engine/workspace.js';
import { DURATION_FORMAT, parseDuration } from '../util/units.js';

type Send = (res: Response, status: number, slug: string, detail: string, extra?: Record<string, unknown>) => void;

/** longest grace a rotation may give the old secret */
const MAX_GRACE_MS = 366 * 24 * 3_600_000;

export function addClientRoutes(app: Express, workspaceOf: (req: Request) => Workspace, sendProblem: Send, systems: readonly MountedSystem[]): void {
  const server = systems.find((s) => s.name === AUTH_SYSTEM && s.applyCommand !== undefined)!;
  const stateOf = (req: Request) => workspaceOf(req).states.get(server) as AuthState;

  app.get('/__admin/clients', (req, res) => {
    const state = stateOf(req);
    const ids = new Set([...state.configClients.keys(), ...state.clients.keys()]);
    res.json({ clients: [...ids].map((id) => view(clientOf(state, id)!)) });
  });

  app.get('/__admin/clients/:id', (req, res) => {
    const client = clientOf(stateOf(req), String(req.params.id));
    if (!client) return sendProblem(res, 404, 'no-such-client', `Workspace ${workspaceOf(req).name} has no client ${String(req.params.id).slice(0, 80)}.`);
    res.json(view(client));
  });

  app.post('/__admin/clients', async (req, res) => {
    const parsed = parseClient(req.body, 'admin');
    if ('errors' in parsed) {
      return sendProblem(res, 400, 'bad-client', `${parsed.errors.length} problem${parsed.errors.length > 1 ? 's' : ''} in the client. Nothing was registered.`, {
        errors: parsed.errors.map((e) => ({ field: e.path, message: e.message })),
      });
    }
    const client = storedClient(parsed.client);
    if (clientOf(stateOf(req), client.id)) return sendProblem(res, 409, 'client-exists', `A client ${client.id} exists already in workspace ${workspaceOf(req).name}.`);
    try {
      await workspaceOf(req).states.command(server, AUTH_COMMANDS.register, { client });
    } catch (err) {
      if (err instanceof CommandError) return sendProblem(res, 409, 'client-exists', err.message);
      throw err;
    }
    res.status(201).location(`${req.baseUrl}/__admin/clients/${encodeURIComponent(client.id)}`).json(view(client));
  });

  app.post('/__admin/clients/:id/rotate', async (req, res) => {
    const id = String(req.params.id);
    const body: unknown = req.body ?? {};
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return sendProblem(res, 400, 'bad-rotation', 'The body is a JSON object, {"grace": "1h"}. Nothing was changed.');
    const unknown = Object.keys(body).filter((k) => k !== 'grace');
    if (unknown.length) return sendProblem(res, 400, 'bad-rotation', `Unknown field ${JSON.stringify(unknown[0])}: the body is {"grace": "1h"}. Nothing was changed.`);
    const grace = (body as { grace?: unknown }).grace ?? '1h';
    let graceMs: number;
    try {
      graceMs = typeof grace === 'string' && /^0+(ms|s|m|h|d)?$/.test(grace) ? 0 : parseDuration(String(grace));
    } catch {
      return sendProblem(res, 400, 'bad-rotation', `grace must be ${DURATION_FORMAT} (or 0s for none). Nothing was changed.`, { errors: [{ field: 'grace', message: `must be ${DURATION_FORMAT}` }] });
    }
    if (typeof grace !== 'string' || graceMs > MAX_GRACE_MS) return sendProblem(res, 400, 'bad-rotation', 'grace must be a duration string of at most 366d. Nothing was changed.', { errors: [{ field: 'grace', message: 'at most 366d' }] });
    const client = clientOf(stateOf(req), id);
    if (!client) return sendProblem(res, 404, 'no-such-client', `Workspace ${workspaceOf(req).name} has no client ${id.slice(0, 80)}.`);
    const secret = newSecret();
    await workspaceOf(req).states.command(server, AUTH_COMMANDS.rotate, { id, secretHash: hashSecret(secret), graceMs });
    const now = workspaceOf(req).states.clock.now();
    res.json({ id, secret, ...(client.secretHash !== undefined && graceMs > 0 ? { previousSecretValidUntil: new Date(now + graceMs).toISOString() } : {}) });
  });
}

/** a client as the admin API shows it: whether it has a secret, never the secret */
function view(client: StoredClient): Record<string, unknown> {
  const validTo = client.certificate !== undefined ? certificateValidTo(client.certificate) : undefined;
  return {
    id: client.id,
    source: client.source,
    grants: client.grants,
    scopes: client.scopes,
    redirectUris: client.redirectUris,
    requirePkce: client.requirePkce,
    ipAllowlist: client.ipAllowlist,
    secret: client.secretHash !== undefined ? 'set' : 'none',
    previousSecrets: client.previousSecrets.map((p) => ({ validUntil: new Date(p.until).toISOString() })),
    certificate: client.certificate !== undefined ? { validTo: validTo !== undefined ? new Date(validTo).toISOString() : null } : null,
    jwks: client.jwks ? { keys: client.jwks.keys.map((k) => ({ kid: k.kid ?? null, kty: k.kty })) } : null,
  };
}
