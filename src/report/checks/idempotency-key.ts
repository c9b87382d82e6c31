/**
 * idempotency.keyReused: the retries of an unsafe operation carried the same idempotency key as the first
 * attempt (its Idempotency-Key header, else the operation's external key). A key minted anew per attempt fails
 * even where the system happens to deduplicate on something else (the WMS on externalOrderId): the key is the
 * client's promise that a retry is a retry, and a gateway that honours only the header charges twice.
 */
import { byOperation, plural, result, type ClientCheck } from '../context.js';
import { isUnsafe } from '../logical-requests.js';
import type { CheckResult } from '../types.js';

export const idempotencyKeyReused: ClientCheck = (client) => {
  const out: CheckResult[] = [];
  for (const [operation, requests] of byOperation(client.requests)) {
    const retried = requests.filter((r) => isUnsafe(r) && r.attempts.length > 1);
    if (retried.length === 0) continue;
    const changed = retried.filter((r) => r.attempts.some((a) => a.key !== r.attempts[0].key));
    const changedSet = new Set(changed);
    const keyless = retried.filter((r) => !changedSet.has(r) && r.attempts[0].key === null);
    if (changed.length || keyless.length) {
      const example = changed[0] ?? keyless[0];
      const what = changed.length
        ? `${plural(changed.length, 'retried logical request')} changed key between attempts (e.g. ${example.attempts.map((a) => a.key ?? 'none').join(' → ')})`
        : `${plural(keyless.length, 'retried logical request')} carried no key at all`;
      out.push(
        result(
          'idempotency.keyReused',
          'fail',
          `${client.client} on ${operation}: ${what}. Generate the Idempotency-Key (or external id) once per business operation, store it with the record, and send the same one on every retry; then a retry after a lost acknowledgement cannot create a second order or charge.`,
          [...changed, ...keyless].slice(0, 10).flatMap((r) => r.attempts.map((a) => a.id)),
          { retried: retried.length, keyChanged: changed.length, noKey: keyless.length },
          { operation },
        ),
      );
    } else {
      out.push(
        result(
          'idempotency.keyReused',
          'pass',
          `${client.client} sent the same key on every retry of ${operation} (${plural(retried.length, 'retried logical request')}).`,
          retried.slice(0, 10).flatMap((r) => r.attempts.map((a) => a.id)),
          { retried: retried.length, keyChanged: 0, noKey: 0 },
          { operation },
        ),
      );
    }
  }
  if (out.length === 0) out.push(result('idempotency.keyReused', 'n/a', `${client.client} retried no unsafe request (POST, PUT, PATCH, DELETE), so there was no key to reuse.`));
  return out;
};
