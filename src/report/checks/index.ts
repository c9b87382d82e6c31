/** Every check, in the order a report lists them (types.ts CLIENT_CHECK_IDS, DRILL_CHECK_IDS). */
import type { ClientCheck, DrillCheck } from '../context.js';
import { alertingTimeToDetect } from './alerting.js';
import { authFlow, authScopes } from './auth.js';
import { breakerStopsDuringOutage } from './breaker.js';
import { singleRecordBursts } from './bulk.js';
import { deliveriesAck } from './deliveries-ack.js';
import { noDuplicateEffects } from './duplicate-effects.js';
import { idempotencyKeyReused } from './idempotency-key.js';
import { overFetching } from './over-fetching.js';
import { pollingWaste } from './polling.js';
import { recoveryTimeToFirstSuccess } from './recovery.js';
import { retryRespectsRetryAfter } from './retry-after.js';
import { retryBounded } from './retry-bounded.js';
import { retryStrategy } from './retry-strategy.js';
import { timeoutsObserved } from './timeouts.js';

export const CLIENT_CHECKS: readonly ClientCheck[] = [
  retryStrategy,
  retryRespectsRetryAfter,
  retryBounded,
  breakerStopsDuringOutage,
  recoveryTimeToFirstSuccess,
  idempotencyKeyReused,
  noDuplicateEffects,
  timeoutsObserved,
  singleRecordBursts,
  pollingWaste,
  overFetching,
  authFlow,
  authScopes,
];

export const DRILL_CHECKS: readonly DrillCheck[] = [alertingTimeToDetect, deliveriesAck];
