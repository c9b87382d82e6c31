/**
 * Mounting the authorization server: one system named `oauth`, mounted twice — `/oauth` for its endpoints and
 * `/.well-known` for discovery — over one state per workspace (the workspace keeps one state per system name, as it
 * does for the ERP's SOAP and OData faces). Its state changes only through commands (state.ts), which the
 * workspace logs and replays.
 */
import type { MountedSystem } from '../../engine/system.js';
import type { OAuthClient } from '../clients.js';
import type { RefreshLinks } from '../refresh-links.js';
import { AccessTokens } from './access-tokens.js';
import type { AuthServerContext, AuthServerSettings } from './context.js';
import { claimedCaller, OAuthEngine } from './oauth-engine.js';
import { SigningKey } from './signing-key.js';
import { applyAuthCommand, createAuthState, restoreAuthState, snapshotAuthState, type AuthState } from './state.js';

export const AUTH_SYSTEM = 'oauth';

export interface AuthorizationServerOptions extends AuthServerSettings {
  /** the config file's clients: known in every workspace */
  clients: readonly OAuthClient[];
  /** where the signing key is kept (null: in memory) */
  dataDir: string | null;
  /** the signing key, given (replicas share one): neither made nor stored */
  signingKeyPem?: string;
  /** per workspace: most clients, codes, refresh tokens, revocations and used jtis kept (oldest pruned) */
  maxObjects: number;
  links: RefreshLinks;
}

export interface AuthorizationServer {
  /** the two mounts (/oauth, /.well-known) */
  systems: MountedSystem[];
  context: AuthServerContext;
  /** reads this server's access tokens (protected systems check them) */
  tokens: AccessTokens;
}

export function mountAuthorizationServer(options: AuthorizationServerOptions): AuthorizationServer {
  const keys = new SigningKey(options.dataDir, options.signingKeyPem);
  const tokens = new AccessTokens(keys);
  let owner: MountedSystem | undefined;
  const context: AuthServerContext = {
    settings: { tokenTtlMs: options.tokenTtlMs, autoApprove: options.autoApprove, users: options.users },
    keys,
    links: options.links,
    system: () => owner!,
  };
  const engine = new OAuthEngine(context, tokens);
  const mount = (path: string): MountedSystem => ({
    name: AUTH_SYSTEM,
    mount: path,
    engine,
    auth: claimedCaller,
    createState: ({ clock }) => createAuthState(options.clients, clock, options.maxObjects),
    snapshotState: (state) => snapshotAuthState(state as AuthState),
    restoreState: (snapshot, { clock }) => restoreAuthState(snapshot, options.clients, clock, options.maxObjects),
    applyCommand: (state, name, input) => applyAuthCommand(state as AuthState, name, input),
    fingerprint: { authState: 1 },
  });
  owner = mount('/oauth');
  return { systems: [owner, mount('/.well-known')], context, tokens };
}
