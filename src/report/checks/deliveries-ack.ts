/**
 * deliveries.ack: how the receiver of understudy's webhooks acknowledged them (the other direction of the
 * integration: the client as a server). Acknowledgement latency p50/p99, the share of attempts answered with
 * something other than 2xx, and how many duplicate copies it acknowledged (a receiver should acknowledge a
 * duplicate, and not act on it twice: the copies are counted so the drill can be read against its effects).
 */
import { duration, percentile, plural, result, type DrillCheck } from '../context.js';

/** a receiver slower than this at p99 risks the sender's timeout (Stripe waits about 10 s) */
const SLOW_P99_MS = 5_000;

export const deliveriesAck: DrillCheck = (context) => {
  const deliveries = context.deliveries;
  if (deliveries.length === 0) return result('deliveries.ack', 'n/a', 'understudy sent no webhook in the report window (no subscription, or no event), so no acknowledgement could be judged.');
  const attempts = deliveries.flatMap((d) => d.attempts);
  const acked = attempts.filter((a) => a.status !== null && a.status >= 200 && a.status < 300);
  const latencies = acked.map((a) => a.latencyMs);
  const nonAckShare = attempts.length ? Math.round(((attempts.length - acked.length) / attempts.length) * 1000) / 1000 : 0;
  const duplicatesAcknowledged = deliveries.reduce((n, d) => n + d.duplicates, 0);
  const dead = deliveries.filter((d) => d.status === 'dead');
  const value = {
    deliveries: deliveries.length,
    attempts: attempts.length,
    p50Ms: latencies.length ? Math.round(percentile(latencies, 50)) : null,
    p99Ms: latencies.length ? Math.round(percentile(latencies, 99)) : null,
    nonAckShare,
    duplicatesAcknowledged,
    dead: dead.length,
  };
  const evidence = { deliveries: deliveries.slice(0, 50).map((d) => d.id) };
  if (acked.length === 0 || dead.length * 2 > deliveries.length) {
    return result('deliveries.ack', 'fail', `The receiver acknowledged ${acked.length} of ${plural(attempts.length, 'delivery attempt')}; ${dead.length} of ${deliveries.length} deliveries died. Events are being lost: answer 2xx as soon as the event is stored, and process it afterwards.`, [], value, { evidence });
  }
  const slow = value.p99Ms !== null && value.p99Ms > SLOW_P99_MS;
  const status = slow || nonAckShare > 0.1 || dead.length > 0 ? 'warn' : 'pass';
  return result(
    'deliveries.ack',
    status,
    `${deliveries.length} deliveries, acknowledged in ${duration(value.p50Ms ?? 0)} (p50) / ${duration(value.p99Ms ?? 0)} (p99); ${Math.round(nonAckShare * 100)}% of attempts were not acknowledged; ${plural(duplicatesAcknowledged, 'duplicate copy', 'duplicate copies')} acknowledged${dead.length ? `; ${dead.length} died` : ''}.${slow ? ' Acknowledge first and do the work afterwards: a slow acknowledgement is retried as if it failed.' : ''}`,
    [],
    value,
    { evidence },
  );
};
