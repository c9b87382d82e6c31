/**
 * The key the authorization server signs its access tokens with (RS256), published at /oauth/jwks.
 *
 * One RSA 2048 key per server, shared by every workspace (a token names its workspace in a claim, so one key does
 * not let a token cross workspaces). It is made on first need — generating it costs ~150 ms, which `npm start`
 * should not pay when nobody uses OAuth — and, with a data directory, kept there (`oauth-signing-key.pem`, mode
 * 0600), so that tokens issued before a restart still verify after it; replicas share one through Redis. Random, not derived from the seed: the seed
 * is public (42 by default), and a key anyone can re-derive would let anyone mint tokens for a deployed server.
 *
 * Signing uses jose. Verifying our own tokens is done here with node:crypto, synchronously: the pipeline's
 * identify step is synchronous and jose verifies only asynchronously. It accepts nothing but the exact header this
 * key writes (RS256, its kid, typ at+jwt), so none of the algorithm choices a general JWT verifier must police
 * arise; a token's claims are then checked by the caller.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { JWTPayload } from 'jose';
import { SIGNING_KEY_FILE } from '../../store/data-dir.js';

export const ACCESS_TOKEN_TYPE = 'at+jwt';

const generate = promisify(generateKeyPair);

interface Loaded {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
  /** the header every token carries, base64url-encoded, as verify() expects it byte for byte */
  header: string;
  jwk: Record<string, unknown>;
}

export class SigningKey {
  private loaded: Loaded | undefined;
  private looked = false;
  private making: Promise<Loaded> | undefined;

  /**
   * `dataDir`: where the key is kept (null: in memory, a new key each run). `pem`: the key itself, given (replicas
   * share one through Redis: replicas/shared-signing-key.ts), which is then neither made nor stored here.
   */
  constructor(
    private readonly dataDir: string | null,
    pem?: string,
  ) {
    if (pem !== undefined) {
      this.loaded = loadedFrom(createPrivateKey(pem));
      this.looked = true;
    }
  }

  /**
   * the stored key, read on first need (a few ms): after the data directory is locked and, with --reset-state,
   * emptied (store/data-dir.ts removes the key with the rest of the state)
   */
  private stored(): Loaded | undefined {
    if (this.loaded === undefined && !this.looked) {
      this.looked = true;
      const file = this.file();
      if (file && existsSync(file)) this.loaded = loadedFrom(createPrivateKey(readFileSync(file, 'utf8')));
    }
    return this.loaded;
  }

  /** the key, made (and stored) on first need */
  async get(): Promise<Loaded> {
    const stored = this.stored();
    if (stored) return stored;
    this.making ??= generate('rsa', { modulusLength: 2048 }).then(({ privateKey }) => {
      const file = this.file();
      if (file) {
        writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
        chmodSync(file, 0o600);
      }
      this.loaded = loadedFrom(privateKey);
      return this.loaded;
    });
    // a key that could not be stored (a full disk) is tried again by the next request, not failed forever
    this.making.catch(() => (this.making = undefined));
    return this.making;
  }

  /** the JWKS /oauth/jwks publishes */
  async jwks(): Promise<{ keys: Array<Record<string, unknown>> }> {
    return { keys: [(await this.get()).jwk] };
  }

  async sign(claims: JWTPayload): Promise<string> {
    const key = await this.get();
    // jose is loaded by the first token (the server starts without it, ~45 ms)
    const { SignJWT } = await import('jose');
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: ACCESS_TOKEN_TYPE, kid: key.kid }).sign(key.privateKey);
  }

  /**
   * The payload of a token this key signed, or undefined when `token` is not one (any other header, a bad
   * signature, a payload that is not a JSON object). Claims are the caller's to check.
   */
  verifyOwn(token: string): Record<string, unknown> | undefined {
    const key = this.stored();
    if (!key) return undefined;
    const first = token.indexOf('.');
    const second = token.indexOf('.', first + 1);
    if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) return undefined;
    if (token.slice(0, first) !== key.header) return undefined;
    const signature = Buffer.from(token.slice(second + 1), 'base64url');
    if (!verify('sha256', Buffer.from(token.slice(0, second)), key.publicKey, signature)) return undefined;
    try {
      const payload: unknown = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8'));
      return payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  private file(): string | undefined {
    return this.dataDir ? join(this.dataDir, SIGNING_KEY_FILE) : undefined;
  }
}

function loadedFrom(privateKey: KeyObject): Loaded {
  const publicKey = createPublicKey(privateKey);
  const exported = publicKey.export({ format: 'jwk' });
  // RFC 7638 thumbprint: a kid that changes exactly when the key does
  const thumbprint = createHash('sha256').update(JSON.stringify({ e: exported.e, kty: 'RSA', n: exported.n })).digest('base64url');
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: ACCESS_TOKEN_TYPE, kid: thumbprint })).toString('base64url');
  return { privateKey, publicKey, kid: thumbprint, header, jwk: { ...exported, kid: thumbprint, use: 'sig', alg: 'RS256' } };
}
