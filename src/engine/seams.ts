/**
 * The pipeline's named seams: where chaos (issue #3) and authentication plug in. Each has a do-nothing default
 * so that the pipeline's shape never changes when the real implementations arrive; they only replace these
 * objects (per workspace for chaos, per system for auth).
 */
import type { Exchange, Reply } from './exchange.js';

/**
 * Fault injection around the handler. `before` may answer instead of the system (outage, rate limit, failFirst)
 * or delay; `after` may alter the handler's reply (drift, malformed, lostAck). Both record what they injected in
 * exchange.faults.
 */
export interface ChaosStage {
  before(exchange: Exchange): Reply | undefined | Promise<Reply | undefined>;
  after(exchange: Exchange, reply: Reply): Reply | Promise<Reply>;
  /** back to the start of the profile at clock time `at`: timeline, counters, rate-limit windows */
  restart?(at: number): void;
}

export const noChaos: ChaosStage = {
  before: () => undefined,
  after: (_exchange, reply) => reply,
};

/**
 * Resolves who is calling (PRODUCT.md §3). An authenticating system returns a Reply (401 + WWW-Authenticate) to
 * refuse the request; the default trusts the X-Understudy-Client header, else 'anonymous'.
 */
export interface ClientIdentifier {
  identify(exchange: Exchange): string | Reply;
  /**
   * Refuses the call's token as if it were no longer valid (chaos `tokenExpiry`): the reply a protected system
   * gives an expired or revoked token. Only identifiers that check tokens have it.
   */
  refuseToken?(exchange: Exchange, description: string): Reply;
}

/** what a client name may be (also checked where a chaos profile names a client in `expect:`) */
export const CLIENT_NAME = /^[A-Za-z0-9._:@-]{1,80}$/;

export const headerIdentity: ClientIdentifier = {
  identify(exchange) {
    const claimed = exchange.headers['x-understudy-client'];
    return typeof claimed === 'string' && CLIENT_NAME.test(claimed) ? claimed : 'anonymous';
  },
};
