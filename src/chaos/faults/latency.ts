/**
 * latency: the answer arrives late. Distributions: fixed, uniform, normal, lognormal (given the median and the
 * 99th percentile, the way latency is usually reported) and pareto (a heavy tail). `max` caps a draw.
 *
 * The fault does not wait itself: it adds to exchange.delayMs and the transport holds the finished reply until
 * that much time has passed since the request arrived. So the operation takes effect on arrival and only the
 * answer is late (as with WireMock's fixed delays), and when the delay ends the only work left is writing the
 * bytes: held requests released together do not queue behind each other's validation and handler work, which
 * is what keeps a 100 ms delay at ~100 ms under a thousand concurrent connections.
 */
import { parseDuration } from '../../util/units.js';
import { DURATION_SCHEMA, FaultParamError, type FaultKind } from './fault.js';

type Params = { draw: (random: () => number) => number; max?: number };

/** z-score of the 99th percentile of the standard normal distribution */
const Z99 = 2.3263478740408408;

/** a standard normal draw (Box-Muller), from two uniform draws */
function gaussian(random: () => number): number {
  const u = Math.max(random(), Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export const latency: FaultKind<Params> = {
  kind: 'latency',
  stage: 'before',
  schema: {
    anyOf: [
      DURATION_SCHEMA,
      {
        type: 'object',
        required: ['distribution'],
        properties: {
          distribution: { enum: ['fixed', 'uniform', 'normal', 'lognormal', 'pareto'] },
          value: DURATION_SCHEMA,
          min: DURATION_SCHEMA,
          max: DURATION_SCHEMA,
          mean: DURATION_SCHEMA,
          stddev: DURATION_SCHEMA,
          median: DURATION_SCHEMA,
          p99: DURATION_SCHEMA,
          alpha: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
        },
        additionalProperties: false,
      },
    ],
  },
  compile(raw) {
    if (typeof raw === 'string') {
      const ms = parseDuration(raw);
      return { draw: () => ms };
    }
    const need = (name: string): number => {
      if (raw[name] === undefined) throw new FaultParamError(`the ${raw.distribution} distribution needs "${name}"`, name);
      return parseDuration(raw[name]);
    };
    const max = raw.max !== undefined ? parseDuration(raw.max) : undefined;
    switch (raw.distribution) {
      case 'fixed': {
        const ms = need('value');
        return { draw: () => ms, max };
      }
      case 'uniform': {
        const min = need('min');
        const top = need('max');
        if (top < min) throw new FaultParamError('max is below min', 'max');
        return { draw: (r) => min + r() * (top - min) };
      }
      case 'normal': {
        const mean = need('mean');
        const sd = need('stddev');
        return { draw: (r) => mean + sd * gaussian(r), max };
      }
      case 'lognormal': {
        const median = need('median');
        const p99 = need('p99');
        if (median <= 0) throw new FaultParamError('median must be above 0', 'median');
        if (p99 < median) throw new FaultParamError('p99 is below the median', 'p99');
        const mu = Math.log(median);
        const sigma = (Math.log(p99) - mu) / Z99;
        return { draw: (r) => Math.exp(mu + sigma * gaussian(r)), max };
      }
      case 'pareto': {
        const min = need('min');
        if (min <= 0) throw new FaultParamError('min must be above 0', 'min');
        if (raw.alpha === undefined) throw new FaultParamError('the pareto distribution needs "alpha"', 'alpha');
        const alpha = raw.alpha as number;
        return { draw: (r) => min / Math.pow(1 - r(), 1 / alpha), max };
      }
    }
    throw new FaultParamError(`unknown distribution ${raw.distribution}`, 'distribution');
  },
  before(ctx, params) {
    let ms = Math.max(0, params.draw(ctx.random));
    if (params.max !== undefined) ms = Math.min(ms, params.max);
    ms = Math.round(ms);
    ctx.record.ms = ms;
    ctx.exchange.delayMs += ms;
    return undefined;
  },
};
