/**
 * delay: the first attempt starts late, by a draw from the same distributions as the request fault `latency`
 * (fixed, uniform, normal, lognormal, pareto; a `max` cap), whose schema and compile are reused so that the two
 * can never disagree on what a distribution means. Webhooks from real providers lag by seconds to minutes; a
 * receiver that assumes the event arrives before the API call that caused it returns is caught here. Delays from
 * several matching rules add up.
 */
import { latency } from '../../chaos/faults/latency.js';
import type { DeliveryFaultKind } from './delivery-fault.js';

type LatencyParams = ReturnType<typeof latency.compile>;

export const delay: DeliveryFaultKind<LatencyParams> = {
  kind: 'delay',
  schema: latency.schema,
  compile: (raw) => latency.compile(raw),
  apply(plan, p, random) {
    // the same reading of a draw as latency's: never negative, capped by max, whole milliseconds
    let ms = Math.max(0, p.draw(random));
    if (p.max !== undefined) ms = Math.min(ms, p.max);
    ms = Math.round(ms);
    plan.delayMs += ms;
    return { ms };
  },
};
