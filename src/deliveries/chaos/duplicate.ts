/**
 * duplicate: a delivered event reaches the receiver more than once, with the same event id, as at-least-once
 * delivery allows (Stripe retries after a lost ack; Salesforce outbound messages arrive "usually one time,
 * sometimes more"). A receiver that does not deduplicate by id applies the change twice, which is what the drill
 * is there to show. `copies` is the total number of sends of the delivered event (copies 2 = the original and one
 * more), so the plan's `duplicates` is copies - 1; the extra copies follow the acknowledged send `spacing` apart.
 */
import { DURATION_SCHEMA } from '../../chaos/faults/fault.js';
import { parseDuration } from '../../util/units.js';
import type { DeliveryFaultKind } from './delivery-fault.js';

export interface DuplicateParams {
  copies: number;
  spacingMs: number;
}

export const duplicate: DeliveryFaultKind<DuplicateParams> = {
  kind: 'duplicate',
  aspect: 'duplicates',
  schema: {
    type: 'object',
    properties: {
      // ten sends of one event is already far past what any real provider does; more only floods the receiver
      copies: { type: 'integer', minimum: 2, maximum: 10 },
      spacing: DURATION_SCHEMA,
    },
    additionalProperties: false,
  },
  compile: (raw) => ({
    copies: raw.copies ?? 2,
    spacingMs: raw.spacing !== undefined ? parseDuration(raw.spacing) : 0,
  }),
  apply(plan, p) {
    plan.duplicates = p.copies - 1;
    plan.spacingMs = p.spacingMs;
    return { copies: p.copies, spacingMs: p.spacingMs };
  },
};
