/**
 * Probable double charges (GET /__admin/payments/duplicates, issue #9): the evidence that an integration's retry
 * logic charged twice. Charges are grouped when they have the same client, customer, amount, currency and order
 * reference (`metadata.order_id`, else `metadata.order_number`, else `description`; a missing one is a value too,
 * null), are not failed (a declined charge moved nothing), and were made within `windowMs` of the previous one of
 * the group (consecutive charges chain, so three retries a minute apart with a 90 s window are one group).
 * Idempotent replays never make charges, so a retry with the same key never appears; one without a key, or with
 * a new key, does.
 */
import type { PaymentsState, StoredCharge } from './state.js';
import { seconds } from './views.js';

export interface DuplicateCharge {
  id: string;
  /** Unix seconds, as the charge shows it */
  created: number;
  idempotency_key: string | null;
  status: string;
}

export interface DuplicateGroup {
  client: string;
  customer: string | null;
  amount: number;
  currency: string;
  order_reference: string | null;
  charges: DuplicateCharge[];
}

export function orderReference(charge: StoredCharge): string | null {
  return charge.metadata.order_id ?? charge.metadata.order_number ?? charge.description ?? null;
}

export function findDuplicates(state: PaymentsState, windowMs: number): DuplicateGroup[] {
  if (!Number.isFinite(windowMs) || windowMs < 0) throw new RangeError(`findDuplicates: windowMs must be a number >= 0, got ${windowMs}`);
  // charges are kept in creation order, so each bucket is in time order too
  const buckets = new Map<string, StoredCharge[]>();
  for (const charge of state.charges) {
    if (charge.status === 'failed') continue;
    const signature = JSON.stringify([charge.client, charge.customer, charge.amount, charge.currency, orderReference(charge)]);
    let bucket = buckets.get(signature);
    if (bucket === undefined) buckets.set(signature, (bucket = []));
    bucket.push(charge);
  }
  const groups: Array<{ first: StoredCharge; charges: StoredCharge[] }> = [];
  for (const bucket of buckets.values()) {
    let run: StoredCharge[] = [bucket[0]];
    const close = () => {
      if (run.length >= 2) groups.push({ first: run[0], charges: run });
    };
    for (let i = 1; i < bucket.length; i++) {
      if (bucket[i].created - bucket[i - 1].created <= windowMs) run.push(bucket[i]);
      else {
        close();
        run = [bucket[i]];
      }
    }
    close();
  }
  groups.sort((a, b) => a.first.created - b.first.created || a.first.index - b.first.index);
  return groups.map(({ first, charges }) => ({
    client: first.client,
    customer: first.customer,
    amount: first.amount,
    currency: first.currency,
    order_reference: orderReference(first),
    charges: charges.map((c) => ({ id: c.id, created: seconds(c.created), idempotency_key: c.idempotencyKey, status: c.status })),
  }));
}
