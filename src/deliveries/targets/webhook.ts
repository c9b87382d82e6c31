/**
 * A webhook subscriber: the event's JSON POSTed to the subscriber's URL, signed like Stripe signs its webhooks
 * (signature.ts), so a receiver written for a real provider verifies it unchanged. Any 2xx is an
 * acknowledgement; everything else (another status, a redirect, a timeout, a reset) is a failed attempt that the
 * dispatcher retries per its policy. Each target has its own keep-alive agent whose socket limit is the
 * subscription's concurrency: a slow receiver holds at most that many of our sockets.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { SIGNATURE_HEADER, signatureHeader } from '../signature.js';
import { createAgent, postJson } from './http-post.js';
import type { DeliveryTarget, SendOutcome, SendRequest } from './target.js';

export interface WebhookTargetOptions {
  /** most requests in flight to the receiver at once (further ones wait for a socket) */
  concurrency: number;
  userAgent: string;
}

export function createWebhookTarget(url: string, options: WebhookTargetOptions): DeliveryTarget {
  const target = parseWebhookUrl(url);
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new RangeError(`webhook concurrency must be an integer of at least 1, not ${options.concurrency}`);
  const agent = createAgent(target, options.concurrency);
  return {
    async send(request: SendRequest): Promise<SendOutcome> {
      const headers: OutgoingHttpHeaders = {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': options.userAgent,
      };
      // with no secret there is nothing to sign with; a header with no v1 would only fail verification
      if (request.secrets.length) headers[SIGNATURE_HEADER] = signatureHeader(request.body, request.secrets, request.nowMs, request.signatureFault);
      const result = await postJson(agent, target, request.body, headers, request.timeoutMs);
      const outcome: SendOutcome = { status: result.status, latencyMs: result.latencyMs };
      const ok = result.status !== null && result.status >= 200 && result.status < 300;
      // every failure says why, so that an outcome with no error is a delivered one
      if (!ok) outcome.error = result.error ?? `HTTP ${result.status}`;
      if (result.retryAfterMs !== undefined) outcome.retryAfterMs = result.retryAfterMs;
      return outcome;
    },
    close() {
      agent.destroy();
    },
  };
}

function parseWebhookUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`webhook URL "${url}" is not an absolute URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`webhook URL "${url}" must be http: or https:, not ${parsed.protocol}`);
  return parsed;
}
