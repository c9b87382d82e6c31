/**
 * Everything start-up needs to run as a replica (`--redis`), in one module that understudy.ts imports only when
 * asked to: ioredis and rate-limiter-flexible take ~80 ms to load, which a server without --redis should not pay.
 */
export { RedisLink } from './redis-link.js';
export { forgetEverything, ReplicatedStore } from './replicated-store.js';
export { RedisChaosCounters } from './redis-chaos-counters.js';
export { sharedSigningKey } from './shared-signing-key.js';
export { createJournalStream } from './journal-stream.js';
