/**
 * noAck: the system does its work but answers that it did not accept the request: an Outbound Message is
 * recorded and answered 200 with <Ack>false</Ack>, so Salesforce keeps it queued and delivers it again (the
 * receiver then counts the redelivery as a duplicate). No parameters (`- noAck`). Only systems that acknowledge
 * (the Outbound Message receiver) can withhold an Ack; anywhere else the journal notes the fault as skipped.
 */
import { NotApplicable, type FaultKind } from './fault.js';

export const noAck: FaultKind<null> = {
  kind: 'noAck',
  stage: 'before',
  schema: { type: 'object', additionalProperties: false },
  compile: () => null,
  before(ctx) {
    const system = ctx.exchange.system;
    if (system?.acknowledges !== true) throw new NotApplicable(`${system?.name ?? 'this request'} answers without an acknowledgement to withhold`);
    ctx.exchange.ackWithheld = true;
    return undefined;
  },
};
