/**
 * What every endpoint of the authorization server shares: its settings, its signing key, the mount whose state it
 * changes, and the bookkeeping that links a refused call to the refresh and the replay after it.
 */
import type { Exchange } from '../../engine/exchange.js';
import type { MountedSystem } from '../../engine/system.js';
import type { RefreshLinks } from '../refresh-links.js';
import type { SigningKey } from './signing-key.js';
import type { AuthState } from './state.js';

export interface AuthServerSettings {
  /** lifetime of access tokens */
  tokenTtlMs: number;
  /** the authorization code flow skips the consent page */
  autoApprove: boolean;
  /** the password grant's users (auth.users) */
  users: ReadonlyArray<{ username: string; password: string }>;
}

export interface AuthServerContext {
  settings: AuthServerSettings;
  keys: SigningKey;
  links: RefreshLinks;
  /** the mount that owns the state (states.command runs on it) */
  system(): MountedSystem;
}

/** The workspace's authorization server state. */
export function authStateOf(context: AuthServerContext, exchange: Exchange): AuthState {
  return exchange.workspace.states.get(context.system()) as AuthState;
}

/** The issuer of the exchange's workspace: `{origin}` or `{origin}/w/{ws}` (PRODUCT.md §2). */
export function issuerOf(origin: string, exchange: Exchange): string {
  return origin + exchange.prefix;
}
