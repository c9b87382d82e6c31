/**
 * The SAP CSRF token convention Salesforce Connect follows (SALESFORCE.md §3: "CSRF Considerations for Salesforce
 * Connect"): a GET carrying `X-CSRF-Token: Fetch` gets the token in the `X-CSRF-Token` response header; a write
 * (POST, PUT, PATCH, MERGE, DELETE) must echo it, else `403` with `X-CSRF-Token: Required` and a body saying "CSRF
 * token validation failed".
 *
 * One token per workspace at a time, as a Gateway session has one: every fetch answers the current token until it
 * is invalidated (the `csrfExpiry` chaos fault), after which a new one is issued. Tokens are derived from the seed,
 * the workspace and a generation counter (deterministic: the same run issues the same tokens) and kept in memory
 * only: like a Gateway session, they do not survive a restart, and a client fetches a new one after a 403.
 */
import { createHash } from 'node:crypto';

export const CSRF_HEADER = 'x-csrf-token';

export class CsrfTokens {
  /** per workspace name: the generation of its current token */
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly seed: number,
    /** what tells tokens of this service apart from another's (its mount) */
    private readonly scope: string,
  ) {}

  /** The workspace's current token. */
  current(workspace: string): string {
    const generation = this.generations.get(workspace) ?? 0;
    return createHash('sha256').update(`understudy-csrf/${this.seed}/${this.scope}/${workspace}/${generation}`).digest('base64url').slice(0, 24);
  }

  valid(workspace: string, sent: string | string[] | undefined): boolean {
    return typeof sent === 'string' && sent === this.current(workspace);
  }

  /** Invalidates the workspace's token: the next fetch issues another, and writes with the old one get 403. */
  expire(workspace: string): void {
    this.generations.set(workspace, (this.generations.get(workspace) ?? 0) + 1);
  }
}
