/**
 * Objects as the API shows them (the contract's schemas): the stored records keep clock times in ms and camelCase
 * fields; these give Stripe's snake_case fields and `created` in Unix seconds. Every answer and every webhook's
 * `data.object` is built here, so GET, POST and webhooks always agree.
 */
import type { LedgerRecord, StoredCharge, StoredCustomer, StoredPaymentMethod, StoredRefund } from './state.js';

export const seconds = (ms: number): number => Math.floor(ms / 1000);

export function customerView(c: StoredCustomer) {
  return {
    id: c.id,
    object: 'customer',
    created: seconds(c.created),
    email: c.email,
    name: c.name,
    description: c.description,
    metadata: { ...c.metadata },
  };
}

export function paymentMethodView(pm: StoredPaymentMethod) {
  return {
    id: pm.id,
    object: 'payment_method',
    type: 'card',
    card: { brand: pm.brand, last4: pm.last4, exp_month: pm.expMonth, exp_year: pm.expYear },
    created: seconds(pm.created),
    metadata: { ...pm.metadata },
  };
}

export function chargeView(c: StoredCharge) {
  return {
    id: c.id,
    object: 'charge',
    amount: c.amount,
    amount_captured: c.amountCaptured,
    amount_refunded: c.amountRefunded,
    captured: c.captured,
    created: seconds(c.created),
    currency: c.currency,
    customer: c.customer,
    description: c.description,
    failure_code: c.failureCode,
    failure_message: c.failureMessage,
    metadata: { ...c.metadata },
    outcome: { ...c.outcome },
    // authorized, pending or captured: the money is (or will be) the merchant's
    paid: c.status !== 'failed',
    payment_method: c.paymentMethod,
    refunded: c.amountCaptured > 0 && c.amountRefunded >= c.amountCaptured,
    status: c.status,
  };
}

export function refundView(r: StoredRefund) {
  return {
    id: r.id,
    object: 'refund',
    amount: r.amount,
    charge: r.charge,
    created: seconds(r.created),
    currency: r.currency,
    metadata: { ...r.metadata },
    reason: r.reason,
    // refunds succeed at once here
    status: 'succeeded',
  };
}

export function ledgerView(e: LedgerRecord) {
  return {
    id: e.id,
    object: 'ledger_entry',
    type: e.type,
    amount: e.amount,
    currency: e.currency,
    charge: e.charge,
    refund: e.refund,
    customer: e.customer,
    description: e.description,
    client: e.client,
    idempotency_key: e.idempotencyKey,
    created: seconds(e.created),
  };
}
