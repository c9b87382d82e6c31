/**
 * The origin a caller reached the server at (scheme://host[:port]), for the absolute URLs a protocol writes back:
 * a WSDL's soap:address, OData's service root, next and delta links, the authorization server's issuer. The
 * scheme is https on a TLS connection; behind a TLS-terminating proxy the scheme and host come from
 * X-Forwarded-Proto / X-Forwarded-Host. A Host that is not a host name is refused (undefined):
 * it would be written into documents clients follow.
 */
import type { Exchange } from './exchange.js';

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function firstValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.split(',')[0].trim() || undefined;
}

/** `{ origin }`, or `{ badHost }` naming what the Host header held. */
export function originOf(exchange: Exchange): { origin: string } | { badHost: string } {
  const forwarded = firstValue(exchange.headers['x-forwarded-proto'])?.toLowerCase();
  const scheme = forwarded === 'https' || forwarded === 'http' ? forwarded : exchange.secure ? 'https' : 'http';
  const host = firstValue(exchange.headers['x-forwarded-host']) ?? firstValue(exchange.headers.host) ?? 'localhost';
  if (!HOST.test(host)) return { badHost: host.slice(0, 100) };
  return { origin: `${scheme}://${host}` };
}
