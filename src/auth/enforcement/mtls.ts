/**
 * `systems.<name>.auth: mtls`: the caller is who its TLS client certificate says, the subject's CN (PRODUCT.md
 * §1; a Named Credential or External Data Source can present a certificate, SALESFORCE.md §1).
 *
 * Why the check is here and not in the TLS handshake: with --tls-ca the server asks every connection for a
 * certificate but, without --require-client-cert, lets connections without a valid one through
 * (tls/server-tls.ts). That way one port serves systems with and without mutual TLS, and a caller without the
 * right certificate gets a 401 in the system's own error shape that the journal records, with the reason — an
 * aborted handshake would show up in no journal and tell the integration's developer nothing.
 *
 * Trust comes from the handshake only: a certificate that does not chain to the configured CA, or has expired
 * (node reports both as not authorized), is refused whatever its CN says. A certificate that expires within 30
 * days still works but is flagged on every exchange (`certificate-expiring`), so the report card can warn before
 * the integration breaks.
 */
import type { Exchange, Reply } from '../../engine/exchange.js';
import { CLIENT_NAME, type ClientIdentifier } from '../../engine/seams.js';
import { certificateFlags } from '../certificate-flags.js';
import { challenge, refuse } from './refusal.js';

export interface MtlsOptions {
  /** the status of a refusal (default 401, like a missing token: auth.invalidTokenStatus) */
  invalidStatus?: number;
}

/** RFC 7591's name for "the client authenticated with a TLS client certificate" */
export const TLS_CLIENT_AUTH = 'tls_client_auth';

export function clientCertificateIdentity(options: MtlsOptions = {}): ClientIdentifier {
  const status = options.invalidStatus ?? 401;
  const refused = (exchange: Exchange, detail: string): Reply => refuse(exchange, status, challenge('Mutual'), detail);
  return {
    identify(exchange) {
      const cert = exchange.clientCertificate;
      if (!cert) return refused(exchange, 'this service requires a TLS client certificate signed by the configured CA');
      // what the caller presented, also on a refusal: an expired certificate is the very thing the report looks for
      const flags = certificateFlags(cert.validTo, exchange.startedAt);
      exchange.auth = { grant: null, method: TLS_CLIENT_AUTH, scopes: [], flags };
      const who = cert.subject === '' ? 'the client certificate' : `the client certificate (${cert.subject})`;
      if (!cert.authorized) {
        if (flags.includes('certificate-expired')) return refused(exchange, `${who} expired at ${new Date(cert.validTo).toISOString()}`);
        return refused(exchange, `${who} does not chain to the configured CA (tls.ca, --tls-ca), or is not valid yet`);
      }
      if (cert.subjectCN === '') return refused(exchange, `${who} has no CN in its subject: the CN names the client`);
      if (!CLIENT_NAME.test(cert.subjectCN)) {
        return refused(exchange, `${who} has a CN that is not a client name: use 1-80 letters, digits and . _ : @ -`);
      }
      return cert.subjectCN;
    },
  };
}
