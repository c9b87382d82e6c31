/** POST /customers and GET /customers/{id}. */
import type { RestRequest, RestResult } from '../../protocols/rest/handler.js';
import { resourceMissing } from './errors.js';
import type { PaymentsState } from './state.js';
import { customerView } from './views.js';

export function createCustomer(req: RestRequest, state: PaymentsState): RestResult {
  // every field is optional, the body too
  const body = (req.body ?? {}) as { email?: string; name?: string; description?: string; metadata?: Record<string, string> };
  const customer = {
    id: state.nextId('cus'),
    created: state.now(),
    email: body.email ?? null,
    name: body.name ?? null,
    description: body.description ?? null,
    metadata: { ...(body.metadata ?? {}) },
  };
  state.customers.set(customer.id, customer);
  return { status: 201, body: customerView(customer), effects: [{ entity: 'customer', id: customer.id, action: 'created' }] };
}

export function getCustomer(req: RestRequest, state: PaymentsState): RestResult {
  const customer = state.customers.get(String(req.params.id));
  if (customer === undefined) return resourceMissing('customer', String(req.params.id), 'id');
  return { status: 200, body: customerView(customer) };
}
