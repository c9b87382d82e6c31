/**
 * "One refresh, one replay" (SALESFORCE.md §1, §8d): whether a Named Credential, refused with a 401, fetched a new
 * token and sent the refused call again is what a test wants to assert, and Salesforce documents neither half. So
 * the journal links them: after a protected call is refused for its token (expired, revoked, or by chaos
 * tokenExpiry), that client's next token request carries `auth.refreshOf` = the refused entry, and its next call
 * with the token that request issued carries `auth.replayOf` = the same entry.
 *
 * Journal bookkeeping, not system state: kept in memory per workspace, forgotten at a restart, and only for
 * clients the refused token named (a call with no token, or a forged one, has no client to follow).
 */
import type { Exchange } from '../engine/exchange.js';
import type { Workspace } from '../engine/workspace.js';

interface Pending {
  refused: Exchange;
  /** the jti of the token the refresh issued, once it has */
  token?: string;
}

/** clients followed per workspace at most (the oldest are forgotten first) */
const MAX_PENDING = 10_000;

export class RefreshLinks {
  private readonly byWorkspace = new WeakMap<Workspace, Map<string, Pending>>();

  /** A protected call by `client` was refused for its token. */
  refused(exchange: Exchange, client: string): void {
    const pending = this.pendingOf(exchange.workspace);
    pending.delete(client);
    if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!);
    pending.set(client, { refused: exchange });
  }

  /** `client` was issued the token `jti`: a refresh, when one of its calls was refused since its last token. */
  issued(exchange: Exchange, client: string, jti: string): Exchange | undefined {
    const link = this.byWorkspace.get(exchange.workspace)?.get(client);
    if (!link || link.token !== undefined) return undefined;
    link.token = jti;
    return link.refused;
  }

  /** `client` called with the token `jti`: the replay, when that token is the refresh's. */
  used(exchange: Exchange, client: string, jti: string): Exchange | undefined {
    const pending = this.byWorkspace.get(exchange.workspace);
    const link = pending?.get(client);
    if (!link || link.token !== jti) return undefined;
    pending!.delete(client);
    return link.refused;
  }

  private pendingOf(workspace: Workspace): Map<string, Pending> {
    let pending = this.byWorkspace.get(workspace);
    if (!pending) this.byWorkspace.set(workspace, (pending = new Map()));
    return pending;
  }
}
