/**
 * polling.waste: the share of change-feed polls (the WMS's listChanges, an OData delta) that brought nothing new
 * — no change with a `seq` above the highest the client had already received: an empty page, or the same records
 * again. Up to half passes, up to 90% warns, more fails; under 3 polls there is nothing to judge.
 */
import { plural, result, type ClientCheck } from '../context.js';

export const pollingWaste: ClientCheck = (client) => {
  const polls = client.attempts.filter((a) => a.highestSeq !== null);
  if (polls.length < 3) {
    return [result('polling.waste', 'n/a', `${client.client} polled a change feed ${plural(polls.length, 'time')}; at least 3 polls are needed to judge.`)];
  }
  const highest = new Map<string, number>();
  const empty = [];
  for (const poll of polls) {
    const seen = highest.get(poll.system) ?? -1;
    if (poll.highestSeq! <= seen) empty.push(poll);
    else highest.set(poll.system, poll.highestSeq!);
  }
  const share = Math.round((empty.length / polls.length) * 1000) / 1000;
  const value = { polls: polls.length, empty: empty.length, share };
  const status = share <= 0.5 ? 'pass' : share <= 0.9 ? 'warn' : 'fail';
  const advice =
    status === 'pass'
      ? 'Its polling interval fits how often the data changes.'
      : 'Poll less often (and keep the cursor so each poll asks only for what is new), or subscribe to the change events instead of polling.';
  return [
    result(
      'polling.waste',
      status,
      `${empty.length} of ${client.client}'s ${polls.length} change-feed polls (${Math.round(share * 100)}%) brought nothing it had not already received. ${advice}`,
      (status === 'pass' ? polls : empty).slice(0, 50).map((a) => a.id),
      value,
    ),
  ];
};
