/**
 * csrfExpiry: the CSRF token the OData service issued stops being valid, as when a Gateway session times out: the
 * workspace's token is replaced, so this request — and any later write carrying the old token — gets `403` with
 * "CSRF token validation failed" and `X-CSRF-Token: Required`, until the client fetches a new one (a GET with
 * `X-CSRF-Token: Fetch`) and repeats the write. That is the recovery Salesforce Connect's CSRF support must do.
 * No parameters (`- csrfExpiry`). The fault acts when it matches, whatever the request (match writes to expire a
 * token just before one is checked); on a service that checks no CSRF tokens (systems.erp.csrf) the journal notes
 * it as skipped.
 */
import { NotApplicable, type FaultKind } from './fault.js';

export const csrfExpiry: FaultKind<null> = {
  kind: 'csrfExpiry',
  stage: 'before',
  schema: { type: 'object', additionalProperties: false },
  compile: () => null,
  before(ctx) {
    const { exchange } = ctx;
    const engine = exchange.system?.engine;
    if (engine?.expireCsrfTokens === undefined || !engine.expireCsrfTokens(exchange)) {
      throw new NotApplicable(`${exchange.system?.mount ?? 'this request'} checks no CSRF tokens`);
    }
    // the request goes on: a write now carries a token that is no longer valid, and the engine refuses it
    return undefined;
  },
};
