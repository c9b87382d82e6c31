/**
 * The authorization server's state in one workspace: the clients registered through the admin API (and config
 * clients whose secret was rotated), authorization codes, refresh tokens, revoked access tokens and the `jti`s of
 * assertions already used.
 *
 * Like every system's state it is a function of (seed, the accepted writes in order, their clock times), changed
 * only by the commands below (`applyAuthCommand`), which the workspace's SystemStates runs with the clock pinned,
 * logs and replays at a restart: so a restart neither resurrects a revoked token nor forgets a live refresh token.
 * The commands carry only what must be remembered, decided before they run (the token endpoint verifies
 * signatures asynchronously first); each one checks again, synchronously, what could have changed meanwhile (a
 * code redeemed by a concurrent request), and refuses with a CommandError — which changes nothing and is not
 * logged. A code or rotated refresh token presented again is the one refusal that changes something (the grant it
 * belongs to is revoked): `token.issue` then returns `{ refused }` instead of throwing, so that the revocation is
 * logged and replayed like any other change.
 *
 * Secrets, codes and refresh tokens are kept (and logged) as SHA-256 hashes, never as issued: the write log on disk
 * then holds nothing a reader could present. Access tokens are not kept at all (they are signed JWTs); only their
 * revocation is. Everything that expires is pruned as commands run, and each kind is capped (`maxObjects`, the
 * oldest first), so a client minting tokens in a loop cannot grow a workspace without bound.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CommandError } from '../../engine/system.js';
import type { Clock } from '../../util/clock.js';
import type { Grant, OAuthClient } from '../clients.js';

/** A client as stored: its secrets as hashes (the current one first), each old one with its grace's end. */
export interface StoredClient extends Omit<OAuthClient, 'secret' | 'previousSecrets'> {
  secretHash?: string;
  previousSecrets: Array<{ hash: string; until: number }>;
}

export interface AuthorizationCode {
  client: string;
  /** the redirect_uri the authorization request named (the token request must repeat it), '' when it named none */
  redirectUri: string;
  scopes: string[];
  /** the user who approved (understudy has no users: the client's own id, or the password grant's username) */
  sub: string;
  /** the PKCE S256 challenge, when one was sent */
  challenge?: string;
  expiresAt: number;
  /** redeemed already: a second redemption revokes what the first issued (RFC 6749 §4.1.2) */
  redeemedFamily?: string;
}

export interface RefreshToken {
  client: string;
  sub: string;
  scopes: string[];
  grant: Grant;
  /** every rotation of one original grant shares a family; reusing a rotated token revokes the family */
  family: string;
  issuedAt: number;
  /** replaced by a rotation: presenting it again is a reuse */
  rotated: boolean;
}

export interface AuthState {
  clock: Clock;
  maxObjects: number;
  /** the config file's clients, as they were at start (not logged: the config is read again at every start) */
  readonly configClients: ReadonlyMap<string, StoredClient>;
  /** registered through the admin API, and config clients since their first rotation */
  clients: Map<string, StoredClient>;
  codes: Map<string, AuthorizationCode>;
  refreshTokens: Map<string, RefreshToken>;
  /** revoked access tokens: jti → when the token would have expired anyway */
  revokedTokens: Map<string, number>;
  /** revoked grant families: family → when revoked */
  revokedFamilies: Map<string, number>;
  /** assertion jtis used: `iss jti` → when the assertion expires */
  usedJtis: Map<string, number>;
}

/** how long an authorization code may wait for its token request (RFC 6749 §4.1.2 recommends at most 10 minutes) */
export const CODE_TTL_MS = 10 * 60_000;

/** a secret, code or refresh token as issued: 256 random bits, base64url */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

export function storedClient(client: OAuthClient): StoredClient {
  const { secret, previousSecrets, ...rest } = client;
  return {
    ...rest,
    ...(secret !== undefined ? { secretHash: hashSecret(secret) } : {}),
    previousSecrets: previousSecrets.map((p) => ({ hash: hashSecret(p.secret), until: p.until })),
  };
}

export function createAuthState(configClients: readonly OAuthClient[], clock: Clock, maxObjects: number): AuthState {
  return {
    clock,
    maxObjects,
    configClients: new Map(configClients.map((c) => [c.id, storedClient(c)])),
    clients: new Map(),
    codes: new Map(),
    refreshTokens: new Map(),
    revokedTokens: new Map(),
    revokedFamilies: new Map(),
    usedJtis: new Map(),
  };
}

/** The client by id: registered (or rotated) ones first, then the config file's. */
export function clientOf(state: AuthState, id: string): StoredClient | undefined {
  return state.clients.get(id) ?? state.configClients.get(id);
}

/** Whether `secret` is the client's current secret, or an old one still in its grace period. */
export function secretMatches(client: StoredClient, secret: string, now: number): boolean {
  const presented = Buffer.from(hashSecret(secret));
  const same = (hash: string) => {
    const b = Buffer.from(hash);
    return b.length === presented.length && timingSafeEqual(b, presented);
  };
  if (client.secretHash !== undefined && same(client.secretHash)) return true;
  return client.previousSecrets.some((p) => p.until > now && same(p.hash));
}

export function isRevoked(state: AuthState, jti: string, family: string | undefined): boolean {
  return state.revokedTokens.has(jti) || (family !== undefined && state.revokedFamilies.has(family));
}

export function jtiUsed(state: AuthState, issuer: string, jti: string, now: number): boolean {
  const until = state.usedJtis.get(`${issuer} ${jti}`);
  return until !== undefined && until > now;
}

// ---- commands -------------------------------------------------------------------------------------------------

export const AUTH_COMMANDS = {
  register: 'client.register',
  rotate: 'client.rotate',
  code: 'code.issue',
  token: 'token.issue',
  revoke: 'token.revoke',
} as const;

export interface RegisterInput {
  client: StoredClient;
}
export interface RotateInput {
  id: string;
  secretHash: string;
  graceMs: number;
}
export interface CodeInput {
  codeHash: string;
  code: Omit<AuthorizationCode, 'expiresAt' | 'redeemedFamily'>;
}
/** A token issued: what it consumed (a code, a refresh token, an assertion's jti) and the refresh token it carries. */
export interface TokenInput {
  client: string;
  /** the grant family the tokens belong to (a redeemed code remembers it, to revoke them if it is presented again) */
  family?: string;
  consumes?: { codeHash?: string; refreshHash?: string; jti?: { key: string; until: number } };
  refresh?: { hash: string; family: string; sub: string; scopes: string[]; grant: Grant };
}
export interface RevokeInput {
  /** an access token's jti and when it expires */
  jti?: string;
  until?: number;
  /** a refresh token (its whole family is revoked) */
  refreshHash?: string;
  /** a grant family outright (a reused code or refresh token) */
  family?: string;
}

/** Runs one command on the state (live, with the clock pinned, or replayed). Throws CommandError to refuse. */
export function applyAuthCommand(state: AuthState, name: string, input: unknown): unknown {
  const now = state.clock.now();
  prune(state, now);
  switch (name) {
    case AUTH_COMMANDS.register: {
      const { client } = input as RegisterInput;
      if (clientOf(state, client.id)) throw new CommandError(`a client ${client.id} exists already`);
      capped(state.clients, state.maxObjects);
      state.clients.set(client.id, client);
      return client;
    }
    case AUTH_COMMANDS.rotate: {
      const { id, secretHash, graceMs } = input as RotateInput;
      const client = clientOf(state, id);
      if (!client) throw new CommandError(`there is no client ${id}`);
      const previous = [...client.previousSecrets.filter((p) => p.until > now)];
      if (client.secretHash !== undefined && graceMs > 0) previous.unshift({ hash: client.secretHash, until: now + graceMs });
      const rotated: StoredClient = { ...client, secretHash, previousSecrets: previous.slice(0, 10) };
      state.clients.set(id, rotated);
      return rotated;
    }
    case AUTH_COMMANDS.code: {
      const { codeHash, code } = input as CodeInput;
      capped(state.codes, state.maxObjects);
      state.codes.set(codeHash, { ...code, expiresAt: now + CODE_TTL_MS });
      return undefined;
    }
    case AUTH_COMMANDS.token:
      return issue(state, input as TokenInput, now);
    case AUTH_COMMANDS.revoke: {
      const { jti, until, refreshHash, family } = input as RevokeInput;
      if (jti !== undefined && until !== undefined && until > now) {
        capped(state.revokedTokens, state.maxObjects);
        state.revokedTokens.set(jti, until);
      }
      const fam = family ?? (refreshHash !== undefined ? state.refreshTokens.get(refreshHash)?.family : undefined);
      if (fam !== undefined) revokeFamily(state, fam, now);
      return undefined;
    }
    default:
      throw new Error(`the authorization server has no command ${name}`);
  }
}

/** What `token.issue` returns: nothing when the token was issued, else why not (the grant was revoked for it). */
export type IssueResult = { refused: string } | undefined;

function issue(state: AuthState, input: TokenInput, now: number): IssueResult {
  const { consumes, refresh } = input;
  // check everything first: a CommandError changes nothing; a reuse revokes its grant, and that is all it changes
  if (consumes?.codeHash !== undefined) {
    const code = state.codes.get(consumes.codeHash);
    if (!code || code.expiresAt <= now) throw new CommandError('the authorization code is unknown or has expired');
    if (code.redeemedFamily !== undefined) {
      // a second redemption: what the first issued is revoked too (RFC 6749 §4.1.2)
      revokeFamily(state, code.redeemedFamily, now);
      return { refused: 'the authorization code was used already; the tokens it gave are revoked' };
    }
  }
  if (consumes?.refreshHash !== undefined) {
    const token = state.refreshTokens.get(consumes.refreshHash);
    if (!token || state.revokedFamilies.has(token.family)) throw new CommandError('the refresh token is unknown or revoked');
    if (token.rotated) {
      // a rotated refresh token presented again: stolen or replayed; the whole family goes (OAuth 2.0 Security BCP §4.14)
      revokeFamily(state, token.family, now);
      return { refused: 'the refresh token was rotated already; reusing it revoked every token of its grant' };
    }
  }
  if (consumes?.jti !== undefined && (state.usedJtis.get(consumes.jti.key) ?? 0) > now) throw new CommandError('the assertion was used already (its jti is single-use)');

  if (consumes?.codeHash !== undefined) state.codes.get(consumes.codeHash)!.redeemedFamily = input.family ?? refresh?.family ?? `code:${consumes.codeHash}`;
  if (consumes?.refreshHash !== undefined) state.refreshTokens.get(consumes.refreshHash)!.rotated = true;
  if (consumes?.jti !== undefined) {
    capped(state.usedJtis, state.maxObjects);
    state.usedJtis.set(consumes.jti.key, consumes.jti.until);
  }
  if (refresh) {
    capped(state.refreshTokens, state.maxObjects);
    state.refreshTokens.set(refresh.hash, { client: input.client, sub: refresh.sub, scopes: refresh.scopes, grant: refresh.grant, family: refresh.family, issuedAt: now, rotated: false });
  }
  return undefined;
}

function revokeFamily(state: AuthState, family: string, now: number): void {
  capped(state.revokedFamilies, state.maxObjects);
  state.revokedFamilies.set(family, now);
  for (const [hash, token] of state.refreshTokens) if (token.family === family) state.refreshTokens.delete(hash);
}

/** drops what has expired: codes, revocations of tokens that expired anyway, used jtis past their assertion's expiry */
function prune(state: AuthState, now: number): void {
  for (const [k, code] of state.codes) if (code.expiresAt <= now && code.redeemedFamily === undefined) state.codes.delete(k);
  for (const [k, until] of state.revokedTokens) if (until <= now) state.revokedTokens.delete(k);
  for (const [k, until] of state.usedJtis) if (until <= now) state.usedJtis.delete(k);
  for (const client of state.clients.values()) {
    if (client.previousSecrets.some((p) => p.until <= now)) client.previousSecrets = client.previousSecrets.filter((p) => p.until > now);
  }
}

/** makes room for one more entry: maps keep insertion order, so the first is the oldest */
function capped(map: Map<string, unknown>, max: number): void {
  while (map.size >= max) map.delete(map.keys().next().value!);
}

// ---- snapshot -------------------------------------------------------------------------------------------------

const SNAPSHOT_VERSION = 1;

export function snapshotAuthState(state: AuthState): Buffer {
  return Buffer.from(
    JSON.stringify({
      version: SNAPSHOT_VERSION,
      clients: [...state.clients],
      codes: [...state.codes],
      refreshTokens: [...state.refreshTokens],
      revokedTokens: [...state.revokedTokens],
      revokedFamilies: [...state.revokedFamilies],
      usedJtis: [...state.usedJtis],
    }),
  );
}

export function restoreAuthState(snapshot: Buffer, configClients: readonly OAuthClient[], clock: Clock, maxObjects: number): AuthState {
  const data = JSON.parse(snapshot.toString('utf8'));
  if (data?.version !== SNAPSHOT_VERSION) throw new Error(`not an authorization server snapshot of version ${SNAPSHOT_VERSION}`);
  const state = createAuthState(configClients, clock, maxObjects);
  state.clients = new Map(data.clients);
  state.codes = new Map(data.codes);
  state.refreshTokens = new Map(data.refreshTokens);
  state.revokedTokens = new Map(data.revokedTokens);
  state.revokedFamilies = new Map(data.revokedFamilies);
  state.usedJtis = new Map(data.usedJtis);
  return state;
}
