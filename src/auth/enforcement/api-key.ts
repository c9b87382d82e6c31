/**
 * `auth: apikey` on a system: every call carries `X-API-Key` with one of `auth.apiKeys`, and the key's `client`
 * becomes the caller. A missing or unknown key is a 401 in the system's error shape; its challenge names the
 * header (there is no registered scheme for API keys, and RFC 7235 requires a challenge on every 401).
 * Keys are compared by their SHA-256 digests, so a lookup's timing says nothing about a key's characters.
 */
import { createHash } from 'node:crypto';
import type { ClientIdentifier } from '../../engine/seams.js';
import { challenge, refuse } from './refusal.js';

export const API_KEY_HEADER = 'x-api-key';

const digest = (key: string) => createHash('sha256').update(key, 'utf8').digest('base64');

export function apiKeyIdentity(keys: ReadonlyArray<{ key: string; client: string }>, invalidStatus = 401): ClientIdentifier {
  const clients = new Map(keys.map((k) => [digest(k.key), k.client]));
  return {
    identify(exchange) {
      const sent = exchange.headers[API_KEY_HEADER];
      const key = Array.isArray(sent) ? sent[0] : sent;
      const wwwAuthenticate = challenge('ApiKey', { header: 'X-API-Key' });
      if (key === undefined || key === '') return refuse(exchange, invalidStatus, wwwAuthenticate, 'This service requires an API key: send it as X-API-Key.');
      const client = clients.get(digest(key));
      if (client === undefined) return refuse(exchange, invalidStatus, wwwAuthenticate, 'The API key is not valid.');
      exchange.auth = { grant: null, method: 'apikey', scopes: [], flags: [] };
      return client;
    },
  };
}
