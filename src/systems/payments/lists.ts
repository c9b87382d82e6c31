/**
 * Stripe's list envelope and paging for objects kept in creation order: newest first, `limit` (default 10, the
 * contract's default, which the engine may not fill in), `starting_after` = the id of the last object of the
 * previous page, whose creation index the caller resolves (404 when it names nothing).
 */
import type { RestRequest } from '../../protocols/rest/handler.js';

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;

export function limitOf(req: RestRequest): number {
  const raw = Number(req.query.limit);
  return Number.isInteger(raw) && raw >= 1 ? Math.min(raw, MAX_LIMIT) : DEFAULT_LIMIT;
}

/**
 * One page of `items` (in creation order) that match `keep`, newest first, among those created before index
 * `before` (all when undefined).
 */
export function pageOf<T>(items: readonly T[], keep: (item: T) => boolean, before: number | undefined, limit: number): { data: T[]; has_more: boolean } {
  const data: T[] = [];
  for (let i = Math.min(before ?? items.length, items.length) - 1; i >= 0; i--) {
    if (!keep(items[i])) continue;
    if (data.length === limit) return { data, has_more: true };
    data.push(items[i]);
  }
  return { data, has_more: false };
}

export function listEnvelope(data: unknown[], hasMore: boolean, url: string) {
  return { object: 'list', data, has_more: hasMore, url };
}
