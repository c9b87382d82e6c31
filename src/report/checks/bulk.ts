/**
 * bulk.singleRecordBursts: calls to a bulk operation (one whose body takes a list of records, as adjustStock)
 * carrying a single record, and the most of them within 10 s. Many single-record calls where one call could
 * carry them all cost a callout each: an Apex transaction may make 100. From 10 in a burst it warns, from 100 it
 * fails.
 */
import { plural, result, type ClientCheck } from '../context.js';

const BURST_WINDOW_MS = 10_000;
const WARN_FROM = 10;
const FAIL_FROM = 100;

export const singleRecordBursts: ClientCheck = (client) => {
  const bulkCalls = client.attempts.filter((a) => a.records !== null);
  if (bulkCalls.length === 0) {
    return [result('bulk.singleRecordBursts', 'n/a', `${client.client} made no call to an operation that takes a list of records, so there was no bulk call to judge.`)];
  }
  const singles = bulkCalls.filter((a) => a.records === 1);
  let largestBurst = 0;
  let burstStart = 0;
  let best = [0, 0];
  for (let end = 0; end < singles.length; end++) {
    while (singles[end].start - singles[burstStart].start > BURST_WINDOW_MS) burstStart++;
    if (end - burstStart + 1 > largestBurst) {
      largestBurst = end - burstStart + 1;
      best = [burstStart, end];
    }
  }
  const value = { singleRecordCalls: singles.length, largestBurst };
  const operations = [...new Set(bulkCalls.map((a) => a.operation))].join(', ');
  const entries = singles.slice(best[0], best[1] + 1).map((a) => a.id);
  if (largestBurst >= WARN_FROM) {
    return [
      result(
        'bulk.singleRecordBursts',
        largestBurst >= FAIL_FROM ? 'fail' : 'warn',
        `${client.client} sent ${plural(largestBurst, 'single-record call')} to ${operations} within 10 s (${singles.length} in all), although each call takes a list. Collect the records and send them in one call (a batch, a Queueable): ${largestBurst >= FAIL_FROM ? 'this many callouts exceed what one Apex transaction may make (100).' : 'every callout counts against Apex limits and the other side’s rate limit.'}`,
        entries,
        value,
      ),
    ];
  }
  return [
    result(
      'bulk.singleRecordBursts',
      'pass',
      `${client.client} used ${operations} with ${plural(bulkCalls.length, 'call')}, ${singles.length} of them carrying a single record, at most ${largestBurst} within 10 s.`,
      (entries.length ? entries : bulkCalls.slice(0, 10).map((a) => a.id)),
      value,
    ),
  ];
};
