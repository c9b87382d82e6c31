/**
 * idempotency.noDuplicateEffects: one logical request created at most one record of each kind. Records come from
 * the journal's effects (action `created`): a double charge, a second reservation or order for what the client
 * meant once. Because logical requests follow retries under freshly minted keys too, a client that re-mints its
 * external key after a lost acknowledgement is caught here even though every single call looked valid. The advice
 * follows what the retries sent: a key changed between attempts (keep it), or one key kept in the body that the
 * system does not deduplicate on (the gateway honours only an Idempotency-Key header: send one).
 */
import { plural, result, type ClientCheck } from '../context.js';
import { isUnsafe } from '../logical-requests.js';

export const noDuplicateEffects: ClientCheck = (client) => {
  const retried = client.requests.filter((r) => isUnsafe(r) && r.attempts.length > 1);
  if (retried.length === 0) {
    return [result('idempotency.noDuplicateEffects', 'n/a', `${client.client} retried no unsafe request, so no retry could have created a duplicate.`, [], { duplicates: 0 })];
  }
  const duplicated: Array<{ entity: string; records: string[]; entries: number[]; keys: Array<string | null> }> = [];
  let duplicates = 0;
  // of the requests that duplicated something: how many, and how many kept one key that was not a header
  let duplicatingRequests = 0;
  let keptBodyKey = 0;
  for (const r of retried) {
    const keys = [...new Set(r.attempts.map((a) => a.key))];
    const before = duplicated.length;
    const byEntity = new Map<string, { records: string[]; entries: number[] }>();
    for (const a of r.attempts) {
      for (const effect of a.created) {
        let group = byEntity.get(effect.entity);
        if (!group) byEntity.set(effect.entity, (group = { records: [], entries: [] }));
        if (!group.records.includes(effect.id)) {
          group.records.push(effect.id);
          group.entries.push(a.id);
        }
      }
    }
    for (const [entity, group] of byEntity) {
      if (group.records.length < 2) continue;
      duplicates += group.records.length - 1;
      duplicated.push({ entity, ...group, keys });
    }
    if (duplicated.length === before) continue;
    duplicatingRequests++;
    // the same key on every attempt, and not an Idempotency-Key header: the system did not deduplicate on it
    if (keys.length === 1 && keys[0] !== null && !r.attempts.some((a) => a.keyFromHeader)) keptBodyKey++;
  }
  if (duplicates === 0) {
    return [
      result(
        'idempotency.noDuplicateEffects',
        'pass',
        `None of ${client.client}'s ${plural(retried.length, 'retried unsafe logical request')} created more than one record.`,
        retried.slice(0, 10).flatMap((r) => r.attempts.map((a) => a.id)),
        { duplicates: 0 },
      ),
    ];
  }
  const named = duplicated.slice(0, 5).map((d) => `${d.entity} ${d.records.join(' and ')}`).join('; ');
  const advice =
    keptBodyKey === duplicatingRequests
      ? `Its retries kept one key each (e.g. ${duplicated[0].keys[0]}), but sent no Idempotency-Key header, and the system does not deduplicate on that key: send an Idempotency-Key header, generated once per business operation and the same on every retry, so the system can recognise the retry and answer with the record it already made.`
      : 'Reuse the same idempotency key (and external id) on every retry of a business operation, so the system can recognise the retry and answer with the record it already made.';
  return [
    result(
      'idempotency.noDuplicateEffects',
      'fail',
      `${client.client}'s retries created ${plural(duplicates, 'duplicate record')}: ${named}. Each was meant once. ${advice}`,
      duplicated.flatMap((d) => d.entries),
      { duplicates },
      { evidence: { records: duplicated.slice(0, 50) } },
    ),
  ];
};
