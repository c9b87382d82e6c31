/**
 * The journal entries as the admin API shows them (PRODUCT.md §5): a summary for lists, the full exchange for
 * one entry. Secrets and card numbers are redacted here, on the way out, so no reader can forget it.
 */
import type { JournalEntry } from './entry-codec.js';
import { redactBodyText, redactHeaderPairs } from './redact.js';

export interface BodyView {
  size: number;
  truncated: boolean;
  text?: string;
  base64?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bodyView(body: Buffer, size: number): BodyView | null {
  if (size === 0) return null;
  const truncated = body.length < size;
  try {
    return { size, truncated, text: redactBodyText(utf8.decode(body)) };
  } catch {
    return { size, truncated, base64: body.toString('base64') };
  }
}

export function toSummary(e: JournalEntry): Record<string, unknown> {
  return {
    id: e.id,
    ts: new Date(e.startedAt).toISOString(),
    endedTs: new Date(e.endedAt).toISOString(),
    workspace: e.workspace,
    system: e.system,
    protocol: e.protocol,
    operation: e.operation,
    method: e.method,
    path: e.path,
    query: e.query,
    client: e.client,
    status: e.status,
    durationMs: Math.round(e.durationMs * 1000) / 1000,
    key: e.key,
    faults: e.faults,
    contract: { valid: e.contractErrors.length === 0, errors: e.contractErrors },
    effects: e.effects,
    auth: e.auth ?? null,
    ...(e.transportError ? { transportError: e.transportError } : {}),
  };
}

export function toFull(e: JournalEntry): Record<string, unknown> {
  return {
    ...toSummary(e),
    remoteAddress: e.remoteAddress,
    request: {
      headers: redactHeaderPairs(e.requestHeaders),
      body: e.bodyProblem ? { problem: e.bodyProblem, size: e.requestBytes } : bodyView(e.requestBody, e.requestBytes),
    },
    response: {
      headers: redactHeaderPairs(e.responseHeaders),
      body: bodyView(e.responseBody, e.responseBytes),
    },
  };
}
