/**
 * The words of an error that chaos answers with. A simulated failure is only worth something if the client cannot
 * tell it from the real thing: a body saying "injected" lets a client (or a developer reading logs) special-case
 * the simulation, which is why the x-understudy-fault header is off by default. So the status, outage, failFirst,
 * succeedFirst and lostAck faults say what a system's own errors say for that status, in the system's own error
 * shape (the protocol engine's errorReply: problem+json for REST, later a SOAP fault or an OData error).
 *
 * Protocol-agnostic on purpose: a detail sentence per status (the title is the status's reason phrase, from
 * statusTitle in engine/problem.ts), which any engine can put where its shape wants it. Where the simulation is visible is the journal (`faults`) and the opt-in header, not here.
 */

/** How servers and gateways commonly word these statuses; deliberately bland, as production errors are. */
const DETAILS: Record<number, string> = {
  400: 'The request could not be processed.',
  401: 'Authentication is required to access this resource.',
  403: 'You do not have permission to perform this operation.',
  404: 'The requested resource was not found.',
  405: 'The method is not allowed for this resource.',
  406: 'None of the requested representations is available.',
  408: 'The server timed out waiting for the request.',
  409: 'The request conflicts with the current state of the resource.',
  410: 'The requested resource is no longer available.',
  412: 'A precondition of the request was not met.',
  413: 'The request is larger than the server is willing to process.',
  415: 'The media type of the request is not supported.',
  422: 'The request was well-formed but could not be processed.',
  423: 'The resource is locked.',
  425: 'The request was sent too early; retry it later.',
  428: 'This request must be conditional.',
  429: 'Too many requests. Slow down and retry later.',
  500: 'An unexpected error occurred while processing the request.',
  501: 'This operation is not implemented.',
  502: 'Bad gateway: an upstream service returned an invalid response.',
  503: 'The service is temporarily unavailable, possibly for maintenance. Retry later.',
  504: 'An upstream service did not respond in time.',
  507: 'The server has insufficient storage to complete the request.',
};

/** The sentence an error of this status carries (a generic one per class for statuses without their own). */
export function plausibleDetail(status: number): string {
  return DETAILS[status] ?? (status >= 500 ? 'The server could not complete the request.' : 'The request could not be completed.');
}
