/**
 * etagConflict: an OData update or delete is refused with 412 Precondition Failed, as if another user had changed
 * the entity between the client's read and its write, although its If-Match was current. Nothing changes. It tests
 * what an integration does on optimistic-concurrency conflicts: Salesforce Connect surfaces the error to the user
 * (writes to external objects "may be reordered or read stale; the external system resolves conflicts"); a custom
 * client should read again and repeat the change, not overwrite blindly. No parameters (`- etagConflict`). On
 * anything but an OData update or delete (a read, a create, a REST or SOAP call) the journal notes it as skipped.
 */
import { NotApplicable, systemError, type FaultKind } from './fault.js';

export const etagConflict: FaultKind<null> = {
  kind: 'etagConflict',
  stage: 'before',
  schema: { type: 'object', additionalProperties: false },
  compile: () => null,
  before(ctx) {
    const { exchange } = ctx;
    const operation = exchange.operation?.id ?? '';
    if (exchange.system?.engine.protocol !== 'odata' || !/\.(update|delete)$/.test(operation)) {
      throw new NotApplicable(`${operation || 'this request'} is not an OData update or delete, which an ETag guards`);
    }
    return systemError(
      exchange,
      412,
      'The entity was changed by another user since it was read: the If-Match ETag no longer matches. Read it again and repeat the change.',
    );
  },
};
