/**
 * `/oauth/authorize` (RFC 6749 §4.1, RFC 7636): the start of the authorization code flow a Salesforce Auth
 * Provider or External Auth Identity Provider (browser flow) sends a person through.
 *
 * GET shows a consent page with one form, Approve and Deny, which POSTs back here; with `auth.autoApprove` (tests)
 * the page is skipped and the code issued at once. Approve → `302` to the redirect URI with `code`, `state` and
 * `iss` (RFC 9207); Deny → `error=access_denied`. The code is single-use and lives 10 minutes.
 *
 * Two kinds of refusal, as RFC 6749 §4.1.2.1 requires: when the client or its redirect URI cannot be trusted (no
 * such client, a redirect URI it did not register) a `400` page, never a redirect — redirecting there would make
 * the server an open redirector; every other problem (an unknown response_type, a scope the client may not have,
 * a PKCE challenge missing where the client requires one, or not S256) is sent to the redirect URI as `error=`.
 *
 * The form carries a token of its own (an HMAC of what it approves and when it was shown, 10 minutes): an Approve
 * the page did not send — another site's forged POST, or one replayed later — gets a 400 page.
 *
 * PKCE as in Salesforce (SALESFORCE.md §8c): optional; a `code_challenge` sent must be S256 and is then required of
 * the token request; `requirePkce` clients must send one. Understudy has no users: the person approving is
 * `login_hint` when the request names one, else `user`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Exchange, Reply } from '../../engine/exchange.js';
import { CommandError } from '../../engine/system.js';
import { authStateOf, type AuthServerContext } from './context.js';
import { escapeHtml, htmlPage, redirect } from './responses.js';
import { AUTH_COMMANDS, clientOf, hashSecret, newSecret, type CodeInput, type StoredClient } from './state.js';

const PARAMS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'login_hint', 'nonce'] as const;
const CHALLENGE = /^[A-Za-z0-9_-]{43,128}$/;

/**
 * The consent form's own token: an HMAC over the request it approves and when the page was shown, so that an
 * Approve POSTed by another site (cross-site request forgery) or replayed later is refused. The key lives with the
 * process: a page shown before a restart must be loaded again.
 */
const FORM_KEY = randomBytes(32);
/** how long a consent page may stay open */
const FORM_TTL_MS = 10 * 60_000;

function formToken(params: ReadonlyMap<string, string>, workspace: string, at: number): string {
  const mac = createHmac('sha256', FORM_KEY).update(`${workspace}\n${at}`);
  for (const p of PARAMS) mac.update(`\n${p}=${params.get(p) ?? ''}`);
  return `${at}.${mac.digest('base64url')}`;
}

function formTokenValid(token: string | undefined, params: ReadonlyMap<string, string>, workspace: string, now: number): boolean {
  const at = Number(token?.split('.')[0]);
  if (!token || !Number.isSafeInteger(at) || now - at > FORM_TTL_MS || at > now) return false;
  const expected = Buffer.from(formToken(params, workspace, at));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** GET (parameters in the query) and POST (the consent form, with `decision`) */
export async function authorizeEndpoint(context: AuthServerContext, exchange: Exchange, params: ReadonlyMap<string, string>, issuer: string): Promise<Reply> {
  const state = authStateOf(context, exchange);
  const clientId = params.get('client_id');
  if (clientId === undefined) return page(400, 'The request names no client', '<p>The authorization request has no <code>client_id</code>.</p>');
  const client = clientOf(state, clientId);
  if (!client) return page(400, 'Unknown client', `<p>There is no client <code>${escapeHtml(clientId.slice(0, 80))}</code> on this server.</p>`);
  exchange.client = client.id;

  const asked = params.get('redirect_uri');
  const redirectUri = asked ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
  if (redirectUri === undefined) {
    return page(400, 'No redirect URI', `<p>Client <code>${escapeHtml(client.id)}</code> registered ${client.redirectUris.length ? 'several redirect URIs: the request must name one' : 'no redirect URI'}.</p>`);
  }
  if (!client.redirectUris.includes(redirectUri)) {
    return page(400, 'Redirect URI not registered', `<p><code>${escapeHtml(redirectUri.slice(0, 300))}</code> is not a redirect URI of client <code>${escapeHtml(client.id)}</code>, so understudy will not send you there.</p>`);
  }
  // from here on, problems go back to the client at its redirect URI
  const back = (query: Record<string, string | undefined>) => redirect(withQuery(redirectUri, { ...query, state: params.get('state'), iss: issuer }));
  const error = (code: string, description: string) => back({ error: code, error_description: description });

  const responseType = params.get('response_type');
  if (responseType !== 'code') return error('unsupported_response_type', `response_type must be code${responseType ? `, not ${responseType.slice(0, 40)}` : ''}`);
  if (!client.grants.includes('authorization_code')) return error('unauthorized_client', `client ${client.id} may not use the authorization code grant`);
  const requested = params.get('scope')?.split(' ').filter(Boolean);
  const beyond = requested?.filter((s) => !client.scopes.includes(s)) ?? [];
  if (beyond.length) return error('invalid_scope', `client ${client.id} may not have ${beyond.join(', ')}`);
  const challenge = params.get('code_challenge');
  const method = params.get('code_challenge_method');
  if (challenge === undefined) {
    if (client.requirePkce) return error('invalid_request', `client ${client.id} requires PKCE: send code_challenge and code_challenge_method=S256`);
    if (method !== undefined) return error('invalid_request', 'code_challenge_method is sent without a code_challenge');
  } else {
    if (method !== 'S256') return error('invalid_request', `code_challenge_method must be S256${method ? `, not ${method.slice(0, 20)}` : ' (plain is not accepted)'}`);
    if (!CHALLENGE.test(challenge)) return error('invalid_request', 'code_challenge must be the base64url SHA-256 of the verifier (43-128 characters)');
  }
  const scopes = requested ? [...new Set(requested)] : client.scopes;

  const decision = exchange.method === 'POST' ? params.get('decision') : context.settings.autoApprove ? 'approve' : undefined;
  if (decision === undefined) return consentPage(client, scopes, params, formToken(params, exchange.workspace.name, exchange.startedAt));
  if (exchange.method === 'POST' && !formTokenValid(params.get('consent'), params, exchange.workspace.name, exchange.startedAt)) {
    return page(400, 'This form has expired', '<p>The consent form was not the one this server showed, or it was shown more than 10 minutes ago. Start the sign-in again.</p>');
  }
  if (decision === 'deny') return error('access_denied', 'the person refused the request');
  if (decision !== 'approve') return page(400, 'Unknown decision', '<p>The form was sent without Approve or Deny.</p>');

  const code = newSecret();
  const input: CodeInput = {
    codeHash: hashSecret(code),
    code: { client: client.id, redirectUri: asked ?? '', scopes, sub: params.get('login_hint')?.slice(0, 200) || 'user', ...(challenge !== undefined ? { challenge } : {}) },
  };
  try {
    await exchange.workspace.states.command(context.system(), AUTH_COMMANDS.code, input);
  } catch (err) {
    if (err instanceof CommandError) return error('server_error', err.message);
    throw err;
  }
  return back({ code });
}

function consentPage(client: StoredClient, scopes: readonly string[], params: ReadonlyMap<string, string>, token: string): Reply {
  const hidden = [...PARAMS.filter((p) => params.has(p)).map((p) => [p, params.get(p)!]), ['consent', token]]
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('\n');
  const list = scopes.length ? `<ul>${scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('')}</ul>` : '<p>No scopes.</p>';
  return page(
    200,
    `Allow ${client.id}?`,
    `<p><code>${escapeHtml(client.id)}</code> asks to act on your behalf with:</p>
${list}
<form method="post" action="authorize">
${hidden}
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<p><small>understudy's fake authorization server. Tests can skip this page with <code>auth.autoApprove: true</code>.</small></p>`,
  );
}

function page(status: number, title: string, body: string): Reply {
  return htmlPage(status, title, body);
}

function withQuery(uri: string, query: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}
