/**
 * Reading a token endpoint request (issue #13) up to "who says they are calling": the form body RFC 6749 §3.2
 * requires, and the client authentication it carries — `client_secret_basic` (the Authorization header),
 * `client_secret_post` (client_id and client_secret in the body), `private_key_jwt` (RFC 7523 §2.2: a client
 * assertion) or none (a public client naming itself with client_id). Method names are RFC 7591's, as the journal's
 * `auth.method` will record them. Groundwork: nothing calls it yet; the token endpoint will, then check the
 * presented credentials against the registered client (and verify an assertion with jwt-assertion.ts).
 *
 * Refusals follow RFC 6749 §5.2: a malformed request is `400 invalid_request`; failed client authentication is
 * `401 invalid_client`, with `WWW-Authenticate: Basic` when the client tried Basic (`basic: true`). Written here
 * rather than with a library: the form is URLSearchParams'; what is acceptable is the RFCs' and this file's.
 */

export const FORM = 'application/x-www-form-urlencoded';
export const CLIENT_ASSERTION_JWT = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** far above any real token request (an assertion is a few KB), low enough to bound the work */
export const MAX_TOKEN_REQUEST_BYTES = 64 * 1024;

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

export interface PresentedClient {
  method: ClientAuthMethod;
  /** the client_id sent (for private_key_jwt it may be absent: the assertion's iss names the client) */
  clientId?: string;
  secret?: string;
  assertion?: string;
  /**
   * Basic only: the id and secret exactly as sent, before form-urldecoding. RFC 6749 §2.3.1 has clients encode
   * both, many do not (a secret with a `+` or `%` then reads differently): the endpoint should accept a match of
   * either form.
   */
  raw?: { clientId: string; secret: string };
}

export interface OAuthRefusal {
  status: 400 | 401;
  error: 'invalid_request' | 'invalid_client';
  description: string;
  /** the client tried HTTP Basic: answer with WWW-Authenticate: Basic */
  basic?: boolean;
}

/** The form's parameters (each once), or why the request is not a token request. */
export function readTokenForm(body: Buffer | undefined, contentType: string | undefined): { params: Map<string, string> } | OAuthRefusal {
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (media !== FORM) return invalidRequest(`a token request is a form: send Content-Type ${FORM}${media ? `, not ${media.slice(0, 60)}` : ''}`);
  if (body === undefined || body.length === 0) return invalidRequest('the request has no parameters; send grant_type and what the grant needs');
  if (body.length > MAX_TOKEN_REQUEST_BYTES) return invalidRequest(`the request is ${body.length} bytes; at most ${MAX_TOKEN_REQUEST_BYTES} are accepted`);
  const text = body.toString('utf8');
  if (text.includes('\uFFFD')) return invalidRequest('the request is not UTF-8');
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) {
    // RFC 6749 §3.2: parameters sent without a value are treated as omitted; none may be repeated
    if (params.has(name)) return invalidRequest(`${name.slice(0, 60)} is given more than once`);
    if (value !== '') params.set(name, value);
  }
  return { params };
}

/** The client authentication the request carries (exactly one method), or the refusal. */
export function presentedClient(params: ReadonlyMap<string, string>, authorization: string | undefined): { client: PresentedClient } | OAuthRefusal {
  const methods: PresentedClient[] = [];
  if (authorization !== undefined && authorization !== '') {
    const basic = basicCredentials(authorization);
    if ('error' in basic) return basic;
    methods.push({ method: 'client_secret_basic', clientId: basic.id, secret: basic.secret, raw: basic.raw });
  }
  const assertionType = params.get('client_assertion_type');
  const assertion = params.get('client_assertion');
  if (assertionType !== undefined || assertion !== undefined) {
    if (assertionType !== CLIENT_ASSERTION_JWT) {
      return invalidRequest(assertionType === undefined ? 'client_assertion needs client_assertion_type' : `client_assertion_type must be ${CLIENT_ASSERTION_JWT}`);
    }
    if (assertion === undefined) return invalidRequest('client_assertion_type is given without a client_assertion');
    methods.push({ method: 'private_key_jwt', clientId: params.get('client_id'), assertion });
  }
  const secret = params.get('client_secret');
  if (secret !== undefined) {
    const id = params.get('client_id');
    if (id === undefined) return invalidRequest('client_secret is given without client_id');
    methods.push({ method: 'client_secret_post', clientId: id, secret });
  }
  if (methods.length > 1) {
    return invalidRequest(`the request authenticates the client more than one way (${methods.map((m) => m.method).join(', ')}); use one`);
  }
  const bodyId = params.get('client_id');
  if (methods.length === 1) {
    const only = methods[0];
    // a client_id beside Basic must name the same client
    if (only.method === 'client_secret_basic' && bodyId !== undefined && bodyId !== only.clientId) {
      return invalidRequest(`client_id ${JSON.stringify(bodyId.slice(0, 80))} is not the client the Authorization header names`);
    }
    return { client: only };
  }
  if (bodyId !== undefined) return { client: { method: 'none', clientId: bodyId } };
  return { status: 401, error: 'invalid_client', description: 'the request does not say which client is calling: authenticate with HTTP Basic, client_id and client_secret, or a client assertion' };
}

/** `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1), or the refusal. */
function basicCredentials(authorization: string): { id: string; secret: string; raw: { clientId: string; secret: string } } | OAuthRefusal {
  const refuse = (why: string): OAuthRefusal => ({ status: 401, error: 'invalid_client', description: why, basic: true });
  const m = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(authorization);
  if (!m) {
    return /^Bearer\s/i.test(authorization)
      ? refuse('the token endpoint takes client credentials (HTTP Basic), not a bearer token')
      : refuse('the Authorization header is not HTTP Basic credentials (Basic base64(client_id:client_secret))');
  }
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return refuse('the Basic credentials are not client_id:client_secret');
  const raw = { clientId: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  // both parts are form-urlencoded before encoding (RFC 6749 §2.3.1); a client that did not encode them may send
  // text that does not decode: then it is taken as it is
  return { id: formDecoded(raw.clientId), secret: formDecoded(raw.secret), raw };
}

function formDecoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

function invalidRequest(description: string): OAuthRefusal {
  return { status: 400, error: 'invalid_request', description };
}
