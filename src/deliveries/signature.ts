/**
 * Webhook signatures in Stripe's format (SALESFORCE.md §6), so that verification code written for a real provider
 * (Apex, stripe-node's constructEvent) works unchanged:
 *
 *   Stripe-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256 of "<t>.<raw body>" with the secret>
 *
 * During a secret's rotation grace period one v1 per valid secret is sent, newest first. Two chaos faults forge
 * it on purpose: `badSignature` (a well-formed v1 that verifies with no secret) and `staleTimestamp` (a correct
 * v1 for a t more than the usual 300 s tolerance in the past), so that tests can see receivers reject them.
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'stripe-signature';
/** how far in the past a staleTimestamp fault dates its t: beyond the 300 s tolerance verifiers default to */
export const STALE_BY_S = 600;

export type SignatureFault = 'badSignature' | 'staleTimestamp';

export function hmacHex(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}

/** The header value for `body` signed at `nowMs` with each of `secrets` (newest first). */
export function signatureHeader(body: string, secrets: readonly string[], nowMs: number, fault?: SignatureFault): string {
  let t = Math.floor(nowMs / 1000);
  if (fault === 'staleTimestamp') t -= STALE_BY_S;
  const parts = [`t=${t}`];
  for (const secret of secrets) {
    // a forgery: the right shape and length, signed with a key nobody holds
    const key = fault === 'badSignature' ? `forged:${secret}` : secret;
    parts.push(`v1=${hmacHex(key, t, body)}`);
  }
  return parts.join(',');
}
