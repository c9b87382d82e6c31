/** GET /ledger: every money movement, newest first, filtered by charge or customer. */
import type { RestRequest, RestResult } from '../../protocols/rest/handler.js';
import { resourceMissing } from './errors.js';
import { limitOf, listEnvelope, pageOf } from './lists.js';
import type { PaymentsState } from './state.js';
import { ledgerView } from './views.js';

export function listLedgerEntries(req: RestRequest, state: PaymentsState): RestResult {
  const charge = req.query.charge as string | undefined;
  const customer = req.query.customer as string | undefined;
  const startingAfter = req.query.starting_after as string | undefined;
  let before: number | undefined;
  if (startingAfter !== undefined) {
    const after = state.ledgerById.get(startingAfter);
    if (after === undefined) return resourceMissing('ledger entry', startingAfter, 'starting_after');
    before = after.index;
  }
  const keep = (e: { charge: string; customer: string | null }) => (charge === undefined || e.charge === charge) && (customer === undefined || e.customer === customer);
  const { data, has_more } = pageOf(state.ledger, keep, before, limitOf(req));
  return { status: 200, body: listEnvelope(data.map(ledgerView), has_more, `${req.baseUrl}/ledger`) };
}
