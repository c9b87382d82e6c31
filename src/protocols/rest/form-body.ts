/**
 * Form-encoded request bodies (application/x-www-form-urlencoded), decoded with qs: bracket keys make nested
 * objects and arrays (`metadata[order_id]=SO-1`, `card[number]=…`, `expand[]=customer`), which is how Stripe's
 * API, its client libraries and Apex code written for it encode a body, and how OpenAPI's `deepObject` style writes
 * an object. Values stay strings here: the operation's form validator coerces them to what its schema says
 * (schema-compiler.ts formBody). Limits keep an absurd form from costing more than a large JSON body would; past
 * them the body is refused, never cut silently. Objects have no prototype, so no key (`constructor`,
 * `hasOwnProperty`) can reach Object.prototype; qs drops `__proto__` keys.
 */
import qs from 'qs';

const OPTIONS: qs.IParseOptions = {
  depth: 8,
  strictDepth: true,
  arrayLimit: 100,
  parameterLimit: 1000,
  throwOnLimitExceeded: true,
  allowPrototypes: true,
  plainObjects: true,
  charset: 'utf-8',
};

/** The form as an object, or why it cannot be read (too deep, too many parameters, too long an array). */
export function parseForm(text: string): { value: Record<string, unknown> } | { error: string } {
  try {
    return { value: qs.parse(text, OPTIONS) as Record<string, unknown> };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
