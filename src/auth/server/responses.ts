/**
 * The authorization server's replies: JSON with `Cache-Control: no-store` (RFC 6749 §5.1: token responses must not
 * be cached), the RFC 6749 §5.2 error object `{ error, error_description }`, and the small HTML pages of the
 * authorization endpoint (the consent form, and the errors that must not redirect).
 */
import type { Reply } from '../../engine/exchange.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export function oauthJson(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  const text = JSON.stringify(body);
  return {
    status,
    headers: { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text), ...NO_STORE, ...headers },
    body: text,
    source: body,
  };
}

/** the RFC 6749 error codes, and the one an HTTP status stands for when a refusal names none (chaos, the engine) */
const CODE_OF_STATUS: Record<number, string> = { 400: 'invalid_request', 401: 'invalid_client', 403: 'access_denied', 503: 'temporarily_unavailable' };
const ERROR_CODE = /^[a-z_]{3,40}$/;

export function errorCodeFor(status: number, title?: string): string {
  if (title !== undefined && ERROR_CODE.test(title)) return title;
  return CODE_OF_STATUS[status] ?? (status >= 500 ? 'server_error' : 'invalid_request');
}

/**
 * `{ error, error_description }`. A 401 invalid_client after HTTP Basic carries `WWW-Authenticate: Basic`
 * (RFC 6749 §5.2), which is what tells a client library its Basic credentials were wrong.
 */
export function oauthError(status: number, error: string, description: string, options: { basic?: boolean } = {}): Reply {
  const headers: Record<string, string> = {};
  if (status === 401 && options.basic) headers['www-authenticate'] = 'Basic realm="understudy", charset="UTF-8"';
  return oauthJson(status, { error, error_description: description }, headers);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A page a person reads in a browser: the consent form, or an error that must not be sent to a redirect URI. */
export function htmlPage(status: number, title: string, body: string): Reply {
  const text = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · understudy</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem}code{background:#f3f3f3;padding:0 .2rem}button{font:inherit;padding:.4rem 1.2rem;margin-right:.6rem}
ul{padding-left:1.2rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
  return {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...NO_STORE,
      // the consent page must not be framed (clickjacking) and runs no script
      'x-frame-options': 'DENY',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    },
    body: text,
  };
}

/** A 302 to `location`. */
export function redirect(location: string): Reply {
  return { status: 302, headers: { location, 'content-length': 0, ...NO_STORE }, body: '' };
}
