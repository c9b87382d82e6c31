/**
 * Discovery (OpenID Connect Discovery 1.0 §3, RFC 8414) and the JWKS: what a client library reads before anything
 * else. Served at `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`, for the root
 * and for each workspace (`/w/{ws}/.well-known/…`), whose issuer is `{origin}/w/{ws}`.
 */
import type { Reply } from '../../engine/exchange.js';
import { GRANTS } from '../clients.js';
import { oauthJson } from './responses.js';
import type { SigningKey } from './signing-key.js';

export function discoveryDocument(issuer: string): Reply {
  return oauthJson(200, {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    jwks_uri: `${issuer}/oauth/jwks`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    grant_types_supported: [...GRANTS],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS512'],
    introspection_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    revocation_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  });
}

export async function jwksDocument(keys: SigningKey): Promise<Reply> {
  const reply = oauthJson(200, await keys.jwks());
  // public and stable: clients may cache it (RFC 7517 leaves caching to HTTP)
  reply.headers['cache-control'] = 'public, max-age=300';
  delete reply.headers.pragma;
  return reply;
}
