/**
 * RFC 9457 problem details: the error shape of the engine itself (unknown paths, bad workspace names, body limits)
 * and of REST systems. Protocol engines with their own error shape (SOAP faults, OData errors) provide their own
 * ProtocolEngine.errorReply instead.
 */
import { STATUS_CODES } from 'node:http';
import type { Reply } from './exchange.js';

export const PROBLEM_JSON = 'application/problem+json';

/** Problem types are URNs: stable identifiers a client can switch on, with no pretend web address behind them. */
export function problemType(slug: string): string {
  return `urn:understudy:problem:${slug}`;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function statusTitle(status: number): string {
  // past the table, the standard reason phrase (502 Bad Gateway, 504 Gateway Timeout ...), as servers send it; for
  // a status without one, the class's name (a chaos fault may use any code, and must read like a real error)
  return TITLES[status] ?? STATUS_CODES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

export function problemReply(
  status: number,
  slug: string,
  detail: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Reply {
  const body = JSON.stringify({ type: problemType(slug), title: statusTitle(status), status, detail, ...extra });
  return {
    status,
    headers: { 'content-type': PROBLEM_JSON, 'content-length': Buffer.byteLength(body), ...headers },
    body,
  };
}
