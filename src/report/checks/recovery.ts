/**
 * recovery.timeToFirstSuccess: how long after an outage window ended the client's first successful (2xx) call
 * came back. A client that went quiet during the outage (a breaker, a queue) must also notice when the system is
 * back; one that never succeeds again needs a person.
 */
import { duration, result, type ClientCheck } from '../context.js';

export const recoveryTimeToFirstSuccess: ClientCheck = (client, context) => {
  const closed = context.outages.filter((o) => Number.isFinite(o.end) && o.end <= context.until);
  if (closed.length === 0) {
    return [result('recovery.timeToFirstSuccess', 'n/a', context.outages.length ? 'No outage window had ended by the end of the report window, so recovery could not be timed yet.' : 'No outage window ran in the report window, so there was no recovery to time.')];
  }
  const timed = [];
  for (const o of closed) {
    const involved = client.attempts.some((a) => o.systems.has(a.system) && a.start < o.end);
    if (!involved) continue;
    const first = client.attempts.find((a) => a.start >= o.end && a.status >= 200 && a.status < 300);
    timed.push({ outage: o, first });
  }
  if (timed.length === 0) {
    return [result('recovery.timeToFirstSuccess', 'n/a', `${client.client} did not call the failing system before the outage ended, so its recovery could not be timed.`)];
  }
  const never = timed.find((t) => t.first === undefined);
  if (never) {
    const after = client.attempts.filter((a) => a.start >= never.outage.end);
    return [
      result(
        'recovery.timeToFirstSuccess',
        'fail',
        after.length
          ? `${client.client} made ${after.length} call(s) after the outage of rule ${never.outage.rule} ended, none successful: it did not recover. Check what it does once the breaker closes or the queue drains.`
          : `${client.client} made no call after the outage of rule ${never.outage.rule} ended: it did not come back by itself. A breaker must half-open and probe; queued work must be resumed without a person.`,
        // no call after it: the last calls it made while the system was down are what it rests on
        (after.length ? after : client.attempts.filter((a) => never.outage.systems.has(a.system) && a.start < never.outage.end).slice(-5)).slice(0, 20).map((a) => a.id),
      ),
    ];
  }
  const worst = timed.reduce((w, t) => (t.first!.end - t.outage.end > w.first!.end - w.outage.end ? t : w));
  const ms = Math.round(Math.max(0, worst.first!.end - worst.outage.end));
  return [
    result(
      'recovery.timeToFirstSuccess',
      'pass',
      `${client.client}'s first successful call came ${duration(ms)} after the outage of rule ${worst.outage.rule} ended.`,
      timed.map((t) => t.first!.id),
      { ms },
    ),
  ];
};
