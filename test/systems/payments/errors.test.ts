/**
 * The errors the engine answers before a handler, in Stripe's shape (errorShape): fed with the ContractErrors the
 * engine's own validators produce for bad input, so that what is tested is what a caller gets.
 */
import { describe, expect, it } from 'vitest';
import type { ContractError } from '../../../src/engine/exchange.js';
import { loadContract } from '../../../src/protocols/rest/contract.js';
import { compileOperations } from '../../../src/protocols/rest/operations.js';
import { describeErrors, SchemaCompiler, type Validator } from '../../../src/protocols/rest/schemas/schema-compiler.js';
import { paramOfPointer } from '../../../src/systems/payments/errors.js';
import { CONTRACT_FILE, charge, expectSchema, payments } from './fixtures.js';

const contract = await loadContract(CONTRACT_FILE, { validate: true });
const operations = compileOperations(contract, contract.defaultMount, new SchemaCompiler(contract));
const op = (id: string) => operations.find((o) => o.id === id)!;
const bodyValidator = (id: string) => op(id).body!.media.find((m) => m.type === 'application/json')!.validate!;

function errorsOf(validate: Validator, value: unknown, where: 'body' | 'query' | 'path' | 'header'): ContractError[] {
  return validate(value) ? [] : describeErrors(validate.errors, where);
}

const f = payments({ maxAmount: 50_000 });
const shape = (status: number, code: string, errors?: ContractError[], operationId = 'createCharge', detail = 'The request does not match the contract.') => {
  const { body } = f.system.errorShape!(status, { code, detail, errors, operationId });
  expectSchema('Error', body);
  return (body as any).error;
};
const validation = (operationId: string, errors: ContractError[]) => {
  expect(errors.length, 'the bad input is refused by the contract').toBeGreaterThan(0);
  return shape(400, 'request-validation', errors, operationId);
};

describe('errorShape', () => {
  it('names the first parameter at fault in Stripe notation, with a message that says what is wrong', () => {
    const amount = validation('createCharge', errorsOf(bodyValidator('createCharge'), charge({ amount: 0 }), 'body'));
    expect(amount).toMatchObject({ type: 'invalid_request_error', param: 'amount' });
    expect(amount.message).toMatch(/Invalid amount.*1 to 50000/);
    const currency = validation('createCharge', errorsOf(bodyValidator('createCharge'), charge({ currency: 'USD' }), 'body'));
    expect(currency).toMatchObject({ param: 'currency', message: expect.stringMatching(/^Invalid currency.*lowercase ISO 4217/) });
    const metadata = validation('createCharge', errorsOf(bodyValidator('createCharge'), charge({ metadata: { order_id: 5 } }), 'body'));
    expect(metadata.param).toBe('metadata[order_id]');
    const missing = validation('createCharge', errorsOf(bodyValidator('createCharge'), { currency: 'usd', payment_method: 'pm_card_visa' }, 'body'));
    expect(missing).toMatchObject({ param: 'amount', message: 'Missing required param: amount.' });
  });

  it('an unknown field is "Received unknown parameter", in the body and in the query', () => {
    const body = validation('createCharge', errorsOf(bodyValidator('createCharge'), charge({ source: 'tok_visa' }), 'body'));
    expect(body).toMatchObject({ param: 'source', message: 'Received unknown parameter: source' });
    const query = validation('listCharges', errorsOf(op('listCharges').query!, { ending_before: 'ch_1' }, 'query'));
    expect(query).toMatchObject({ param: 'ending_before', message: 'Received unknown parameter: ending_before' });
    const limit = validation('listCharges', errorsOf(op('listCharges').query!, { limit: '101' }, 'query'));
    expect(limit.param).toBe('limit');
  });

  it('never repeats a card number', () => {
    for (const number of ['4242-4242-4242-4242', '42424242424242424242', '4242  4242 4242 4242']) {
      const errors = errorsOf(bodyValidator('createPaymentMethod'), { type: 'card', card: { number, exp_month: 12, exp_year: 2030 } }, 'body');
      const error = validation('createPaymentMethod', errors);
      expect(error.param).toBe('card[number]');
      expect(JSON.stringify(error)).not.toMatch(/4242/);
    }
    const cvc = validation('createPaymentMethod', errorsOf(bodyValidator('createPaymentMethod'), { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '12345' } }, 'body'));
    expect(cvc.param).toBe('card[cvc]');
    expect(JSON.stringify(cvc)).not.toContain('12345');
  });

  it('the Idempotency-Key header by its contract name, with Stripe message for an overlong key', () => {
    const long = validation('createCharge', errorsOf(op('createCharge').header!, { 'idempotency-key': 'k'.repeat(256) }, 'header'));
    expect(long).toEqual({ type: 'invalid_request_error', param: 'Idempotency-Key', message: 'Keys for idempotent requests can be at most 255 characters long.' });
    const spaced = validation('createCharge', errorsOf(op('createCharge').header!, { 'idempotency-key': 'order 42' }, 'header'));
    expect(spaced.param).toBe('Idempotency-Key');
    expect(spaced.message).not.toMatch(/255 characters long/);
  });

  it('a malformed path id is param id, saying which kind of id', () => {
    const chargeId = validation('getCharge', errorsOf(op('getCharge').path!, { id: '42' }, 'path'));
    expect(chargeId).toMatchObject({ param: 'id', message: expect.stringContaining('ch_') });
    const customerId = validation('getCustomer', errorsOf(op('getCustomer').path!, { id: 'ch_1' }, 'path'));
    expect(customerId).toMatchObject({ param: 'id', message: expect.stringContaining('cus_') });
  });

  it('a missing body has no param', () => {
    const error = validation('createCharge', [{ in: 'body', pointer: '', message: 'a request body is required' }]);
    expect(error.param).toBeUndefined();
    expect(error.message).toContain('a request body is required');
  });

  it('routing, media type, size, rate limits and server errors', () => {
    expect(shape(404, 'no-such-operation', undefined, undefined, 'No operation of this API matches GET /payments/v1/nothing.')).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringMatching(/^Unrecognized request URL \(GET: \/payments\/v1\/nothing\)/),
    });
    expect(shape(405, 'method-not-allowed', undefined, undefined, 'DELETE is not allowed on /payments/v1/charges; allowed: GET, POST.').message).toMatch(
      /^Unrecognized request URL \(DELETE: \/payments\/v1\/charges\)/,
    );
    expect(shape(415, 'unsupported-media-type', undefined, 'createCharge', 'This operation takes application/json, not application/x-www-form-urlencoded.')).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringContaining('application/json'),
    });
    expect(shape(413, 'body-too-large').type).toBe('invalid_request_error');
    expect(shape(429, 'error')).toMatchObject({ type: 'invalid_request_error', code: 'rate_limit' });
    expect(shape(500, 'error', undefined, undefined, 'Injected fault.')).toEqual({ type: 'api_error', message: 'Injected fault.' });
    expect(shape(503, 'store-unavailable', undefined, undefined, 'The write was not made: disk full.').type).toBe('api_error');
  });

  it('pointers to params', () => {
    expect(paramOfPointer('/card/number')).toBe('card[number]');
    expect(paramOfPointer('/metadata/a~1b')).toBe('metadata[a/b]');
    expect(paramOfPointer('/amount')).toBe('amount');
    expect(paramOfPointer('')).toBeUndefined();
    expect(paramOfPointer(undefined)).toBeUndefined();
  });
});
