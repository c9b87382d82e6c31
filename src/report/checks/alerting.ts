/**
 * alerting.timeToDetect: from the first fault an outage window injected to the first alert a fake sink received
 * (Slack webhook or PagerDuty Events API, /alerts/...). The seed's principle: error handling is a feedback loop
 * that must reach a human in time to act. An outage that ran without any alert fails.
 */
import { duration, result, type DrillCheck } from '../context.js';

export const alertingTimeToDetect: DrillCheck = (context) => {
  const hit = context.outages.filter((o) => o.firstFault !== null);
  if (hit.length === 0) {
    return result('alerting.timeToDetect', 'n/a', context.outages.length ? 'Outage windows ran but no call met their fault, so there was nothing anyone could have detected.' : 'No outage window ran in the report window, so there was nothing to detect.');
  }
  const detections = hit.map((o) => ({ outage: o, alert: context.alerts.find((a) => a.at >= o.firstFault!.at) }));
  const missed = detections.find((d) => d.alert === undefined);
  if (missed) {
    return result(
      'alerting.timeToDetect',
      'fail',
      `The outage of rule ${missed.outage.rule}${missed.outage.phase ? ` (phase ${missed.outage.phase})` : ''} ran from the first failed call (entry ${missed.outage.firstFault!.id}) and no alert reached a sink (Slack or PagerDuty at /alerts/...). Nobody would have known. Alert on consecutive failures or an open circuit breaker, not only on exceptions in a log.`,
      [missed.outage.firstFault!.id],
    );
  }
  const worst = detections.reduce((w, d) => (d.alert!.at - d.outage.firstFault!.at > w.alert!.at - w.outage.firstFault!.at ? d : w));
  const ms = Math.round(worst.alert!.at - worst.outage.firstFault!.at);
  return result(
    'alerting.timeToDetect',
    ms <= 300_000 ? 'pass' : 'warn',
    `An alert (${worst.alert!.sink}, entry ${worst.alert!.id}) arrived ${duration(ms)} after the first failed call of the outage of rule ${worst.outage.rule}${ms > 300_000 ? ': a person hears of it more than 5 minutes in' : ''}.`,
    detections.flatMap((d) => [d.outage.firstFault!.id, d.alert!.id]),
    { ms, sink: worst.alert!.sink },
  );
};
