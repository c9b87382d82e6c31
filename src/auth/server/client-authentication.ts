/**
 * Who is calling the token, introspection and revocation endpoints (RFC 6749 §2.3, RFC 7523 §2.2): the client the
 * request authenticates as, by the one method it used — a secret in the Basic header or the body (the current
 * secret, or a rotated one in its grace period), a private_key_jwt assertion verified against the client's
 * certificate or JWKS, or none (a public client: no secret, no keys) — and from where (its IP allowlist).
 *
 * Failures are `401 invalid_client` (with `WWW-Authenticate: Basic` after Basic), described so that whoever set up
 * the External Credential can see which part is wrong; the JWT bearer grant authenticates by its assertion instead
 * (token-endpoint.ts).
 */
import type { Exchange } from '../../engine/exchange.js';
import { allowedFrom, certificateValidTo } from '../clients.js';
import { certificateFlags } from '../certificate-flags.js';
import { verifyAssertion, type AssertionKeys } from '../jwt-assertion.js';
import { presentedClient, type ClientAuthMethod, type PresentedClient } from '../token-request.js';
import { clientOf, jtiUsed, secretMatches, type AuthState, type StoredClient } from './state.js';

export interface AuthenticatedClient {
  client: StoredClient;
  method: ClientAuthMethod;
  /** certificate-expiring / certificate-expired, for a client that signed with a registered certificate */
  flags: string[];
  /** a private_key_jwt assertion's jti, to consume with the request's command (single use) */
  jti?: { key: string; until: number };
}

export interface ClientRefusal {
  status: 400 | 401;
  error: string;
  description: string;
  basic?: boolean;
  /** the client id the request claimed, for the journal's `client` */
  claimed?: string;
}

/** The client id a request claims (unverified): for the journal and chaos before anything is checked. */
export function claimedClient(params: ReadonlyMap<string, string>, authorization: string | undefined): string | undefined {
  const presented = presentedClient(params, authorization);
  if ('client' in presented && presented.client.clientId !== undefined) return presented.client.clientId;
  const assertion = params.get('client_assertion') ?? params.get('assertion');
  return assertion === undefined ? undefined : unverifiedIssuer(assertion);
}

/** the `iss` of a JWT, read without verifying it (to know whom it claims to be from) */
export function unverifiedIssuer(jwt: string): string | undefined {
  const part = jwt.split('.')[1];
  if (part === undefined || part.length > 16 * 1024) return undefined;
  try {
    const iss = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))?.iss;
    return typeof iss === 'string' && iss.length <= 200 ? iss : undefined;
  } catch {
    return undefined;
  }
}

export function keysOf(client: StoredClient): AssertionKeys | undefined {
  if (client.certificate !== undefined) return { certificate: client.certificate };
  if (client.jwks !== undefined) return { jwks: client.jwks as AssertionKeys extends { jwks: infer J } ? J : never };
  return undefined;
}

export function signingFlags(client: StoredClient, now: number): string[] {
  return client.certificate === undefined ? [] : certificateFlags(certificateValidTo(client.certificate), now);
}

export async function authenticateClient(
  exchange: Exchange,
  state: AuthState,
  params: ReadonlyMap<string, string>,
  audiences: readonly string[],
): Promise<AuthenticatedClient | ClientRefusal> {
  const presented = presentedClient(params, header(exchange.headers.authorization));
  if (!('client' in presented)) return presented;
  const p = presented.client;
  const now = state.clock.now();
  const invalid = (description: string): ClientRefusal => ({ status: 401, error: 'invalid_client', description, basic: p.method === 'client_secret_basic', claimed: p.clientId });

  let id = p.clientId;
  if (p.method === 'private_key_jwt' && id === undefined) id = unverifiedIssuer(p.assertion!);
  const client = id === undefined ? undefined : clientOf(state, id) ?? basicRawClient(state, p);
  if (!client) return invalid(`there is no client ${JSON.stringify((id ?? '').slice(0, 80))}`);
  if (!allowedFrom(client.ipAllowlist, exchange.remoteAddress)) return invalid(`client ${client.id} may not call from ${exchange.remoteAddress}: it is outside the client's IP allowlist`);

  switch (p.method) {
    case 'client_secret_basic':
    case 'client_secret_post': {
      if (client.secretHash === undefined) return invalid(`client ${client.id} has no secret: it authenticates with ${keysOf(client) ? 'a client assertion (private_key_jwt)' : 'nothing (a public client)'}`);
      const ok = secretMatches(client, p.secret!, now) || (p.raw !== undefined && secretMatches(client, p.raw.secret, now));
      if (!ok) return invalid(`the secret is not client ${client.id}'s (a rotated secret is accepted only until its grace period ends)`);
      return { client, method: p.method, flags: [] };
    }
    case 'private_key_jwt': {
      const keys = keysOf(client);
      if (!keys) return invalid(`client ${client.id} has no certificate or JWKS registered to verify a client assertion with`);
      const result = await verifyAssertion(p.assertion, keys, {
        issuer: client.id,
        audiences,
        now,
        firstUse: (jti) => !jtiUsed(state, client.id, jti, now),
      });
      if (!result.ok) return invalid(`the client assertion was refused: ${result.description}`);
      // RFC 7523 §3: for client authentication, sub is the client too
      if (result.claims.sub !== client.id) return invalid(`the client assertion's sub must be the client id ${client.id}`);
      const jti = typeof result.claims.jti === 'string' ? { key: `${client.id} ${result.claims.jti}`, until: result.claims.exp * 1000 } : undefined;
      return { client, method: 'private_key_jwt', flags: signingFlags(client, now), jti };
    }
    case 'none':
      if (client.secretHash !== undefined || keysOf(client)) return invalid(`client ${client.id} is confidential: authenticate it (HTTP Basic, client_secret or a client assertion)`);
      return { client, method: 'none', flags: [] };
  }
}

/** a Basic client id sent without the form-encoding RFC 6749 asks for */
function basicRawClient(state: AuthState, p: PresentedClient): StoredClient | undefined {
  return p.raw === undefined ? undefined : clientOf(state, p.raw.clientId);
}

export function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
