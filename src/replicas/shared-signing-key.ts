/**
 * The authorization server's signing key, shared by replicas (`--redis`): a token one replica issues must verify
 * on every other. The first replica to start makes the key and offers it (`SET NX`); every replica, that one
 * included, signs with whichever key Redis kept. Without replicas the key lives in the data directory
 * (auth/server/signing-key.ts); here Redis is the one place all of them read, and it is as private as the state
 * it already holds (protect it as such: a password, TLS, a private network).
 */
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type { RedisLink } from './redis-link.js';

const generate = promisify(generateKeyPair);

/** The PEM (PKCS#8) of the key every replica on this prefix signs with; made by the first to ask. */
export async function sharedSigningKey(link: RedisLink): Promise<string> {
  const key = link.globalKey('oauth-signing-key');
  const existing = await link.commands.get(key);
  if (existing !== null) return existing;
  const { privateKey } = await generate('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  // another replica may have offered one meanwhile: theirs wins, whoever is first
  const [[, set], [, kept]] = ((await link.commands.pipeline().set(key, pem, 'NX').get(key).exec()) ?? []) as Array<[unknown, string | null]>;
  return set === 'OK' || kept === null ? pem : kept;
}
