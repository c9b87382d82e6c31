/**
 * The fake alert sinks (issue #10): Slack incoming webhooks and PagerDuty's Events API v2, mounted at /alerts as
 * the system `alerts`, so that the alerts a client's monitoring raises during a chaos drill land in the journal
 * beside the faults that caused them. The report card finds them there (system `alerts`, a 2xx status) and tells
 * the sinks apart by operation: `slackMessage`, `pagerDutyEnqueue`.
 *
 * The sinks keep nothing (stateless): an alert is its journal entry. This file wires the handlers and words the
 * engine's own errors the way each sink words its errors.
 */
import { fileURLToPath } from 'node:url';
import type { EngineError, RestSystemDefinition } from '../../protocols/rest/handler.js';
import { pagerDutyEnqueue, pagerDutyErrorOf, type AlertsState } from './pagerduty.js';
import { slackCodeOf, slackMessage, TEXT_PLAIN } from './slack.js';

export type { AlertsState } from './pagerduty.js';

/** The journal's system name for alerts, and its operations: what the report card looks for. */
export const ALERTS_SYSTEM = 'alerts';
export const ALERT_OPERATIONS = { slack: 'slackMessage', pagerduty: 'pagerDutyEnqueue' } as const;

/** The same relative URL works from src/systems/alerts (vitest) and dist/systems/alerts (after tsc): same depth. */
const DEFAULT_CONTRACT = fileURLToPath(new URL('../../../contracts/alerts.openapi.yaml', import.meta.url));

export function createAlertsSystem(options: { contractFile?: string } = {}): RestSystemDefinition<AlertsState> {
  return {
    name: ALERTS_SYSTEM,
    contractFile: options.contractFile ?? DEFAULT_CONTRACT,
    handlers: { [ALERT_OPERATIONS.slack]: slackMessage, [ALERT_OPERATIONS.pagerduty]: pagerDutyEnqueue },
    createState: ({ seed }) => ({ seed }),
    stateless: true,
    errorShape,
  };
}

/**
 * Each sink's own error for what the engine refuses once it knows the operation (validation, 415). Before that
 * (an unknown path, an oversize body, a chaos fault) the engine cannot say which sink was called: a plain-text
 * sentence then, which neither kind of client mistakes for success.
 */
function errorShape(_status: number, error: EngineError): { body: unknown; contentType?: string } {
  if (error.operationId === ALERT_OPERATIONS.slack) return { body: slackCodeOf(error), contentType: TEXT_PLAIN };
  if (error.operationId === ALERT_OPERATIONS.pagerduty) return { body: pagerDutyErrorOf(error) };
  return { body: error.detail, contentType: TEXT_PLAIN };
}
