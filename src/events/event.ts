/**
 * Business events (issue #8, PRODUCT.md §6): what the fake systems tell their subscribers. Every event has a
 * unique `id`, a `type` (`inventory.changed`, `reservation.created` ...), `created` (RFC 3339), the `system` that
 * emitted it and `data`: the changed record exactly as the system's GET shows it after the change.
 *
 * Ids are derived, not random: the same seed and the same traffic give the same ids (deterministic CI runs), and
 * an id names one change of one workspace's state since its latest reset, so no two events share one.
 */
import { createHash } from 'node:crypto';

export interface BusinessEvent {
  id: string;
  type: string;
  created: string;
  system: string;
  data: unknown;
}

/**
 * The id of the `seq`th change of `system` in a workspace whose state started at `epoch` (ms): `evt_` and 24
 * base64url characters, the shape of a Stripe event id.
 */
export function eventId(seed: number, workspace: string, system: string, epoch: number, seq: number): string {
  const digest = createHash('sha256').update(`${seed}/${workspace}/${system}/${epoch}/${seq}`).digest();
  return 'evt_' + digest.subarray(0, 18).toString('base64url');
}

/**
 * Event patterns in subscriptions and delivery rules: an exact type (`inventory.changed`), a family
 * (`inventory.*`: every type whose first part is `inventory`), or `*` (every event).
 */
export const EVENT_PATTERN = /^(\*|[a-z][a-z0-9_]*(\.([a-z][a-z0-9_]*|\*))*)$/;

export function matchesEvent(pattern: string, type: string): boolean {
  if (pattern === '*' || pattern === type) return true;
  if (!pattern.endsWith('.*')) return false;
  const family = pattern.slice(0, -1); // "inventory."
  return type.startsWith(family);
}

/** Why `pattern` matches none of `known` (undefined when it matches some): for 400s and config errors. */
export function unknownPattern(pattern: string, known: readonly string[]): string | undefined {
  if (!EVENT_PATTERN.test(pattern)) return `"${pattern}" is not an event pattern (a type such as inventory.changed, a family such as inventory.*, or *)`;
  if (known.some((type) => matchesEvent(pattern, type))) return undefined;
  return `"${pattern}" matches no event this server emits (${known.join(', ')})`;
}
