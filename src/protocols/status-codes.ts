/**
 * The error code a protocol with an error shape of its own (a SOAP fault's `CODE:` lead, an OData error's `code`)
 * writes for a refusal the HTTP layer or chaos makes, by HTTP status: words a client can switch on, the same in
 * every protocol. Past the table: SERVER_ERROR or CLIENT_ERROR, by class (a chaos fault may use any status).
 */
const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  410: 'GONE',
  412: 'PRECONDITION_FAILED',
  413: 'REQUEST_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMIT_EXCEEDED',
  500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

export function statusErrorCode(status: number): string {
  return CODES[status] ?? (status >= 500 ? 'SERVER_ERROR' : 'CLIENT_ERROR');
}
