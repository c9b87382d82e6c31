/** What the alert-sink tests share: posting to each sink, reading the journal's alerts. */
import { call, json, start, type JsonResponse } from '../../helpers.js';
import type { RunningServer, ServerOptions } from '../../../src/server.js';

/** A server with only the alert sinks: the other systems have nothing to do with these tests. */
export function sinks(options: ServerOptions = {}): Promise<RunningServer> {
  return start({ systems: { wms: { enabled: false }, payments: { enabled: false } }, ...options });
}

export const SLACK_PATH = '/alerts/slack/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX';
export const PAGERDUTY_PATH = '/alerts/pagerduty/v2/enqueue';
export const ROUTING_KEY = '0123456789abcdef0123456789abcdef';

export function slack(url: string, message: unknown, headers: Record<string, string> = {}, prefix = ''): Promise<JsonResponse> {
  return call(`${url}${prefix}${SLACK_PATH}`, json(message, headers));
}

export function pagerDuty(url: string, event: unknown, headers: Record<string, string> = {}, prefix = ''): Promise<JsonResponse> {
  return call(`${url}${prefix}${PAGERDUTY_PATH}`, json(event, headers));
}

export function trigger(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    routing_key: ROUTING_KEY,
    event_action: 'trigger',
    payload: { summary: 'Payment gateway answers 503', source: 'sf-sandbox', severity: 'critical' },
    ...extra,
  };
}

/** A raw POST: any content type, any bytes. */
export function post(url: string, path: string, body: string | Buffer, contentType?: string): Promise<JsonResponse> {
  return call(`${url}${path}`, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });
}

export interface AlertEntry {
  id: number;
  operation: string;
  status: number;
  client: string;
  key: string | null;
  path: string;
  workspace: string;
  faults: Array<{ rule: string; kind: string }>;
  contract: { valid: boolean; errors: unknown[] };
}

/** The journal's entries for system alerts, oldest first (the journal lists newest first). */
export async function alertEntries(url: string, prefix = '', query = ''): Promise<AlertEntry[]> {
  const r = await call(`${url}${prefix}/__admin/journal?system=alerts${query}`);
  if (r.status !== 200) throw new Error(`journal: ${r.status} ${r.text}`);
  return (r.body.entries as AlertEntry[]).slice().reverse();
}
