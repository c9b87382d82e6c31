/**
 * malformed: the status and headers are right, the body is not: JSON cut off mid-document with a stray byte, or
 * XML with an unclosed element. Parsers on the client must fail cleanly.
 */
import { bodyText, withBody } from './body-faults.js';
import { NotApplicable, type FaultKind } from './fault.js';

export const malformed: FaultKind<null> = {
  kind: 'malformed',
  stage: 'after',
  schema: { type: 'object', additionalProperties: false },
  compile: () => null,
  after(ctx, _p, reply) {
    const text = bodyText(reply);
    if (text.length === 0) throw new NotApplicable('the reply body is empty');
    const type = String(reply.headers['content-type'] ?? '');
    const cut = text.slice(0, Math.max(1, Math.floor(text.length * (0.3 + 0.4 * ctx.random()))));
    const broken = type.includes('xml') ? `${cut}<unclosed` : `${cut}\u0000}{`;
    ctx.record.keptChars = cut.length;
    return withBody(reply, broken);
  },
};
