/**
 * The seed's "certificate expiring silently eighteen months after go-live": a signing certificate registered for
 * a client (JWT bearer, private_key_jwt) or a TLS client certificate that has expired, or will within 30 days, is
 * flagged on every exchange that uses it, so the report card can warn before the integration breaks.
 */

/** how far ahead an expiry is worth a warning */
export const EXPIRY_WARNING_MS = 30 * 24 * 3_600_000;

export function certificateFlags(validTo: number | undefined, now: number): string[] {
  if (validTo === undefined || !Number.isFinite(validTo)) return [];
  if (validTo <= now) return ['certificate-expired'];
  if (validTo - now <= EXPIRY_WARNING_MS) return ['certificate-expiring'];
  return [];
}
