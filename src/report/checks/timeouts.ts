/**
 * timeouts.observed: how long the client waited for an answer before giving up (closing the connection), set
 * against Apex's callout limits: 10 s by default, 120 s at most. The median wait over the attempts it abandoned:
 * under 10 s warns (it gives up on answers a Salesforce callout would still wait for, and a write's outcome is
 * then unknown), up to 120 s passes, beyond fails (no callout waits that long) — 5% tolerance at both bounds.
 * An attempt the client never gave up on, which ended only when a server hang ran out past 120 s, counts as a
 * wait beyond the maximum.
 */
import { duration, median, plural, result, type ClientCheck } from '../context.js';

export const APEX_DEFAULT_TIMEOUT_MS = 10_000;
export const APEX_MAX_TIMEOUT_MS = 120_000;
const TOLERANCE = 0.05;

export const timeoutsObserved: ClientCheck = (client) => {
  const abandoned = client.attempts.filter((a) => a.abandoned);
  const outwaited = client.attempts.filter((a) => a.outwaited && a.end - a.start > APEX_MAX_TIMEOUT_MS * (1 + TOLERANCE));
  const waits = [...abandoned, ...outwaited].map((a) => a.end - a.start);
  if (waits.length === 0) {
    return [result('timeouts.observed', 'n/a', `${client.client} abandoned no request (it never closed a connection before the answer), so its timeout was not exercised.`)];
  }
  const waitedMs = Math.round(median(waits));
  const value = { waitedMs, abandoned: abandoned.length };
  const entries = [...abandoned, ...outwaited].map((a) => a.id);
  if (waitedMs > APEX_MAX_TIMEOUT_MS * (1 + TOLERANCE)) {
    return [
      result(
        'timeouts.observed',
        'fail',
        `${client.client} waited ${duration(waitedMs)} (median) before giving up, longer than any Salesforce callout may (120 s). A caller that waits this long ties up its threads while the other end is down; set a timeout and handle it.`,
        entries,
        value,
      ),
    ];
  }
  if (waitedMs < APEX_DEFAULT_TIMEOUT_MS * (1 - TOLERANCE)) {
    return [
      result(
        'timeouts.observed',
        'warn',
        `${client.client} gave up after ${duration(waitedMs)} (median over ${plural(abandoned.length, 'abandoned attempt')}), sooner than Apex's 10 s default. It abandons answers a Salesforce callout would still receive, and for a write the outcome is then unknown: the system may have done it. Make sure such a timeout is followed by a retry with the same idempotency key, or a status check.`,
        entries,
        value,
      ),
    ];
  }
  return [
    result(
      'timeouts.observed',
      'pass',
      `${client.client} waited ${duration(waitedMs)} (median over ${plural(abandoned.length, 'abandoned attempt')}) before giving up: between Apex's 10 s default and its 120 s maximum.`,
      entries,
      value,
    ),
  ];
};
