/**
 * The Slack incoming-webhook sink: takes a message as Slack does and answers as Slack does, `200` with the plain
 * text `ok`, or a plain-text error code. Slack's codes are what a client's logs and error handling know, so both
 * the handler's refusals and the engine's (a body that is not JSON, a block that is not an object) use them.
 */
import type { EngineError, RestRequest, RestResult } from '../../protocols/rest/handler.js';
import { MAX_DEPTH, nestedDeeperThan } from './json-shape.js';

/** The error codes the sink answers with, as Slack words them (contracts/alerts.openapi.yaml SlackError). */
export type SlackErrorCode = 'invalid_payload' | 'no_text' | 'invalid_blocks' | 'too_many_attachments';

export const TEXT_PLAIN = 'text/plain; charset=utf-8';

interface SlackMessage {
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
}

export function slackMessage(req: RestRequest): RestResult {
  const message = req.body as SlackMessage;
  if (nestedDeeperThan(message, MAX_DEPTH)) return slackError('invalid_payload');
  // whitespace shows nothing in a channel: Slack refuses it as it refuses no text at all
  const hasText = typeof message.text === 'string' && message.text.trim() !== '';
  if (!hasText && !message.blocks?.length && !message.attachments?.length) return slackError('no_text');
  return { status: 200, text: 'ok', headers: { 'content-type': TEXT_PLAIN } };
}

function slackError(code: SlackErrorCode): RestResult {
  return { status: 400, text: code, headers: { 'content-type': TEXT_PLAIN } };
}

/** Slack's code for a request the engine refused before the handler ran (a body that broke the contract). */
export function slackCodeOf(error: EngineError): SlackErrorCode {
  const body = (error.errors ?? []).filter((e) => e.in === 'body');
  if (body.some((e) => e.pointer === '/attachments' && e.message.startsWith('must NOT have more than'))) return 'too_many_attachments';
  if (body.some((e) => e.pointer?.startsWith('/blocks'))) return 'invalid_blocks';
  return 'invalid_payload';
}
