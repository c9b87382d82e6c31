/**
 * The payment gateway's contract (contracts/payments.openapi.yaml, issue #9), before any handler exists. Read
 * through the code the server uses (loadContract, SchemaCompiler, compileOperations, the REST engine's router), it
 * must be a valid OpenAPI 3.0 document that Salesforce External Services can import; have the operations the issue
 * lists; give every response a schema and examples that match it; answer every error in Stripe's error shape;
 * declare Stripe's idempotency headers where they occur; and refuse the issue's bad input by itself, so that such
 * requests are answered before any handler runs (and store nothing under an Idempotency-Key).
 */
import { fileURLToPath } from 'node:url';
import type { OpenAPIV3 } from 'openapi-types';
import { describe, expect, it } from 'vitest';
import { checkContract, loadContract, resolveRef } from '../../../src/protocols/rest/contract.js';
import { compileOperations, type CompiledOperation } from '../../../src/protocols/rest/operations.js';
import { RestEngine } from '../../../src/protocols/rest/rest-engine.js';
import { describeErrors, pointerOf, SchemaCompiler, type Validator } from '../../../src/protocols/rest/schemas/schema-compiler.js';

const CONTRACT_FILE = fileURLToPath(new URL('../../../contracts/payments.openapi.yaml', import.meta.url));

// as the server loads a contract it serves (src/protocols/rest/mount.ts, rest-engine.ts)
const contract = await loadContract(CONTRACT_FILE, { validate: true });
/** the document as served (not dereferenced), read freely: the checks below are about its shape */
const doc = contract.document as Record<string, any>;
const compiler = new SchemaCompiler(contract);
const operations = compileOperations(contract, contract.defaultMount, compiler);

function op(id: string): CompiledOperation {
  const found = operations.find((o) => o.id === id);
  if (!found) throw new Error(`no operation ${id}`);
  return found;
}

/** the operation's path as the contract writes it (without the mount) */
const pathOf = (o: CompiledOperation) => o.template.slice(contract.defaultMount.length);

/** a response object with its $ref followed */
const response = (o: CompiledOperation, status: string) => o.responses.get(status)!.response;

/** a validator for the schema at `pointer`, compiled by reference into the document as the engine compiles them */
const schemaAt = (pointer: string): Validator => compiler.responseBody(pointer, pointer);

function errorsOf(validate: Validator, value: unknown, where: 'body' | 'query' | 'path' | 'header') {
  return validate(value) ? [] : describeErrors(validate.errors, where);
}

/** where the errors are (a value can break several rules of one schema: type and enum, length and pattern) */
const placesOf = (errors: ReturnType<typeof errorsOf>) => [...new Set(errors.map((e) => e.pointer ?? e.name))];

/** the JSON request body validator of an operation */
function bodyOf(id: string): Validator {
  const media = op(id).body?.media.find((m) => m.type === 'application/json');
  expect(media?.validate, `${id} takes a JSON body`).toBeDefined();
  return media!.validate!;
}

/** every named or single example of a media type object, $refs followed */
function examplesOf(media: OpenAPIV3.MediaTypeObject): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  if (media.example !== undefined) out.push(['example', media.example]);
  for (const [name, raw] of Object.entries(media.examples ?? {})) {
    out.push([name, resolveRef<OpenAPIV3.ExampleObject>(doc, raw, '').value.value]);
  }
  return out;
}

// what the issue (#9) lists, in its words
const ISSUE_OPERATIONS = [
  ['POST', '/customers', 'createCustomer'],
  ['GET', '/customers/{id}', 'getCustomer'],
  ['POST', '/payment_methods', 'createPaymentMethod'],
  ['POST', '/charges', 'createCharge'],
  ['GET', '/charges', 'listCharges'],
  ['GET', '/charges/{id}', 'getCharge'],
  ['POST', '/charges/{id}/capture', 'captureCharge'],
  ['POST', '/refunds', 'createRefund'],
  ['GET', '/ledger', 'listLedgerEntries'],
];
const ISSUE_TEST_METHODS = [
  'pm_card_visa',
  'pm_card_mastercard',
  'pm_card_chargeDeclined',
  'pm_card_insufficientFunds',
  'pm_card_expired',
  'pm_card_processingError',
  'pm_card_slow',
  'pm_card_apiError',
];
const WEBHOOK_TYPES = ['charge.succeeded', 'charge.failed', 'charge.refunded', 'refund.succeeded'];
const ERROR_SCHEMA = '/components/schemas/Error';

describe('contracts/payments.openapi.yaml', () => {
  it('is a valid OpenAPI 3.0 document, as `understudy contracts check` sees it', async () => {
    expect(await checkContract(CONTRACT_FILE)).toEqual([]);
    expect(doc.openapi).toMatch(/^3\.0\.\d$/);
    expect(contract.dialect).toBe('3.0');
  });

  it('is mounted at /payments/v1 and rejects unknown query parameters, as the WMS does', () => {
    expect(contract.defaultMount).toBe('/payments/v1');
    expect(doc['x-understudy-strict-query']).toBe(true);
  });

  it('has exactly the operations the issue lists, each with tags, a summary and a description', () => {
    const found = operations.map((o) => [o.method, pathOf(o), o.id]);
    expect(found.sort()).toEqual([...ISSUE_OPERATIONS].sort());
    for (const o of operations) {
      expect(o.id, o.id).toMatch(/^[a-z][A-Za-z]+$/);
      expect(o.operation.tags?.length, `${o.id} tags`).toBeGreaterThan(0);
      expect(o.operation.summary, `${o.id} summary`).toBeTruthy();
      expect(o.operation.description, `${o.id} description`).toBeTruthy();
    }
  });

  it('can be routed: the REST engine builds its router from it', async () => {
    // no handlers: every operation would answer from the contract's examples (ids differ, so none is left over)
    const engine = await RestEngine.create(contract, contract.defaultMount, {});
    expect(engine.operations.map((o) => o.id).sort()).toEqual(ISSUE_OPERATIONS.map(([, , id]) => id).sort());
    expect(await engine.warmUp()).toEqual([]);
  });

  it('uses the same path-parameter name at the same position under each prefix (router requirement)', () => {
    const names = new Map<string, string>();
    for (const path of Object.keys(doc.paths)) {
      const segments = path.split('/');
      segments.forEach((segment, i) => {
        if (!segment.startsWith('{')) return;
        const prefix = segments.slice(0, i).join('/');
        expect(names.get(prefix) ?? segment, path).toBe(segment);
        names.set(prefix, segment);
      });
    }
  });

  it('takes an Idempotency-Key (at most 255 characters) on every POST and on nothing else', () => {
    for (const o of operations) {
      const key = (o.operation.parameters ?? [])
        .map((p) => resolveRef<OpenAPIV3.ParameterObject>(doc, p, '').value)
        .find((p) => p.in === 'header' && p.name === 'Idempotency-Key');
      if (o.method !== 'POST') {
        expect(key, `${o.id} has no Idempotency-Key`).toBeUndefined();
        continue;
      }
      expect(key, `${o.id} Idempotency-Key`).toBeDefined();
      expect(key!.required ?? false).toBe(false);
      expect((key!.schema as OpenAPIV3.SchemaObject).maxLength).toBe(255);
      expect(o.headerNames).toContain('idempotency-key');
    }
  });

  it('marks every response a replay can give with Idempotent-Replayed, and never the ones that store nothing', () => {
    // 401 and 403 refuse the caller before the gateway reads the key
    const NEVER_STORED = new Set(['401', '403', '409', '413', '415', '429', '5XX']);
    for (const o of operations.filter((x) => x.method === 'POST')) {
      for (const status of o.responses.keys()) {
        const headers = response(o, status).headers ?? {};
        expect('Idempotent-Replayed' in headers, `${o.id} ${status}`).toBe(!NEVER_STORED.has(status));
      }
    }
  });

  it('answers 400, 429 and 500 everywhere, 404 where an id is named, 409 on every POST, 429 with Retry-After', () => {
    for (const o of operations) {
      const statuses = [...o.responses.keys()];
      expect(statuses, o.id).toEqual(expect.arrayContaining(['400', '429', '500']));
      if (o.method === 'POST') expect(statuses, o.id).toContain('409');
      if (o.id !== 'createCustomer' && o.id !== 'createPaymentMethod') expect(statuses, o.id).toContain('404');
      expect(Object.keys(response(o, '429').headers ?? {}), `${o.id} 429`).toContain('Retry-After');
    }
    expect([...op('createCharge').responses.keys()]).toContain('402');
    expect([...op('createCharge').responses.keys()]).toContain('201');
    expect([...op('createRefund').responses.keys()]).toContain('201');
    expect([...op('captureCharge').responses.keys()]).toContain('202');
  });

  it("answers every error in Stripe's error shape, as application/json", () => {
    for (const o of operations) {
      for (const status of o.responses.keys()) {
        if (Number(status) < 400) continue;
        const content = response(o, status).content ?? {};
        expect(Object.keys(content), `${o.id} ${status}`).toEqual(['application/json']);
        const schema = content['application/json'].schema as OpenAPIV3.ReferenceObject;
        expect(schema.$ref, `${o.id} ${status}`).toBe(`#${ERROR_SCHEMA}`);
      }
    }
  });

  it('gives every response a JSON schema and at least one example, and every example matches its schema', () => {
    let checked = 0;
    for (const o of operations) {
      for (const [status, spec] of o.responses) {
        const media = spec.response.content?.['application/json'];
        expect(media?.schema, `${o.id} ${status} schema`).toBeDefined();
        const examples = examplesOf(media!);
        expect(examples.length, `${o.id} ${status} examples`).toBeGreaterThan(0);
        for (const [name, value] of examples) {
          expect(errorsOf(spec.validate!, value, 'body'), `${o.id} ${status} ${name}`).toEqual([]);
          checked++;
        }
        if (Number(status) >= 400) {
          for (const [name, value] of examples) {
            const type = (value as { error: { type: string } }).error.type;
            const expected = status === '402' ? ['card_error'] : status === '500' ? ['api_error'] : status === '409' ? ['idempotency_error'] : ['invalid_request_error', 'idempotency_error'];
            expect(expected, `${o.id} ${status} ${name}: ${type}`).toContain(type);
          }
        }
      }
      if (o.body) {
        const json = o.operation.requestBody as OpenAPIV3.RequestBodyObject;
        const examples = examplesOf(json.content['application/json']);
        expect(examples.length, `${o.id} request example`).toBeGreaterThan(0);
        for (const [name, value] of examples) {
          expect(errorsOf(bodyOf(o.id), value, 'body'), `${o.id} request ${name}`).toEqual([]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('has schema, parameter and header examples that match their schemas', () => {
    let checked = 0;
    const walk = (schema: any, pointer: string) => {
      if (!schema || typeof schema !== 'object' || '$ref' in schema) return;
      if (schema.example !== undefined) {
        expect(errorsOf(schemaAt(pointer), schema.example, 'body'), `${pointer} example`).toEqual([]);
        checked++;
      }
      for (const [name, property] of Object.entries(schema.properties ?? {})) walk(property, `${pointer}${pointerOf('properties', name)}`);
      if (schema.items) walk(schema.items, `${pointer}/items`);
      if (typeof schema.additionalProperties === 'object') walk(schema.additionalProperties, `${pointer}/additionalProperties`);
      for (const keyword of ['allOf', 'oneOf', 'anyOf']) (schema[keyword] ?? []).forEach((s: unknown, i: number) => walk(s, `${pointer}/${keyword}/${i}`));
    };
    for (const name of Object.keys(doc.components.schemas)) walk(doc.components.schemas[name], pointerOf('components', 'schemas', name));
    for (const [name, parameter] of Object.entries<any>(doc.components.parameters)) {
      if (parameter.example !== undefined) {
        expect(errorsOf(schemaAt(pointerOf('components', 'parameters', name, 'schema')), parameter.example, 'body'), name).toEqual([]);
        checked++;
      }
    }
    for (const [name, header] of Object.entries<any>(doc.components.headers)) {
      if (header.example !== undefined) {
        expect(errorsOf(schemaAt(pointerOf('components', 'headers', name, 'schema')), header.example, 'body'), name).toEqual([]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it('documents the webhooks as Stripe event objects, with a valid example of each type', () => {
    const event = doc.components.schemas.WebhookEvent;
    expect(event.properties.type.enum).toEqual(WEBHOOK_TYPES);
    expect(event.required).toEqual(expect.arrayContaining(['id', 'object', 'type', 'created', 'data']));
    const validate = schemaAt('/components/schemas/WebhookEvent');
    const examples = Object.entries<any>(doc.components.examples).filter(([name]) => name.startsWith('Webhook'));
    expect(examples.map(([, e]) => e.value.type).sort()).toEqual([...WEBHOOK_TYPES].sort());
    for (const [name, example] of examples) expect(errorsOf(validate, example.value, 'body'), name).toEqual([]);
    // event ids as the event bus makes them (src/events/event.ts eventId): evt_ and 24 base64url characters
    expect(errorsOf(validate, { ...examples[0][1].value, id: 'evt_q2V-h8LmT0x_Rz4kWc9NbP3a' }, 'body')).toEqual([]);
  });

  describe('refuses the bad input the issue lists by itself, before any handler', () => {
    const charge = { amount: 4999, currency: 'usd', payment_method: 'pm_card_visa' };
    const pointers = (value: unknown) => placesOf(errorsOf(bodyOf('createCharge'), value, 'body'));

    it('amounts: negative, zero, fractional, not a number, above the cap (the cap itself allowed)', () => {
      expect(pointers(charge)).toEqual([]);
      expect(pointers({ ...charge, amount: 1 })).toEqual([]);
      expect(pointers({ ...charge, amount: 99999999 })).toEqual([]);
      for (const amount of [0, -1, -4999, 10.5, 0.5, '4999', null, 100000000]) {
        expect(pointers({ ...charge, amount }), `amount ${JSON.stringify(amount)}`).toEqual(['/amount']);
      }
      const { amount: _omitted, ...noAmount } = charge;
      expect(pointers(noAmount)).toEqual(['/amount']);
    });

    it('currencies: unknown or not lowercase', () => {
      for (const currency of ['usd', 'eur', 'jpy']) expect(pointers({ ...charge, currency })).toEqual([]);
      for (const currency of ['USD', 'xyz', 'usdx', '', 840]) expect(pointers({ ...charge, currency }), String(currency)).toEqual(['/currency']);
    });

    it("the issue's test payment methods are well-formed; other ids, unknown fields and non-string metadata are not", () => {
      for (const id of ISSUE_TEST_METHODS) {
        expect(pointers({ ...charge, payment_method: id }), id).toEqual([]);
        expect(doc.info.description, id).toContain(`\`${id}\``);
      }
      expect(pointers({ ...charge, payment_method: 'card_visa' })).toEqual(['/payment_method']);
      expect(pointers({ ...charge, customer: 'CUST-1' })).toEqual(['/customer']);
      expect(pointers({ ...charge, source: 'tok_visa' })).toEqual(['/source']);
      expect(pointers({ ...charge, capture: 'false' })).toEqual(['/capture']);
      expect(pointers({ ...charge, metadata: { order: 1042 } })).toEqual(['/metadata/order']);
    });

    it('refunds: amounts as for charges, a charge id that is not one', () => {
      const refund = (value: object) => placesOf(errorsOf(bodyOf('createRefund'), value, 'body'));
      expect(refund({ charge: 'ch_3RbK9xQ2mLp7VwZc' })).toEqual([]);
      expect(refund({ charge: 'ch_3RbK9xQ2mLp7VwZc', amount: 99999999, reason: 'duplicate' })).toEqual([]);
      for (const amount of [0, -1, 1.5, 100000000]) expect(refund({ charge: 'ch_3RbK9xQ2mLp7VwZc', amount }), String(amount)).toEqual(['/amount']);
      expect(refund({ charge: 're_3RbKC7Q2mLp7Hs1t' })).toEqual(['/charge']);
      expect(refund({ amount: 100 })).toEqual(['/charge']);
    });

    it('card numbers: test numbers with or without spaces; anything else is not a card number', () => {
      const card = (number: unknown, more: object = {}) =>
        placesOf(errorsOf(bodyOf('createPaymentMethod'), { type: 'card', card: { number, exp_month: 12, exp_year: 2030, ...more } }, 'body'));
      for (const number of ['4242 4242 4242 4242', '4242424242424242', '4000000000000002', '3782 822463 10005']) expect(card(number), number).toEqual([]);
      for (const number of ['4242-4242-4242-4242', '4242  4242 4242 4242', '424242424242', '42424242424242424242', ' 4242424242424242', 4242424242424242]) {
        expect(card(number), String(number)).toEqual(['/card/number']);
      }
      expect(card('4242424242424242', { exp_month: 13 })).toEqual(['/card/exp_month']);
      expect(card('4242424242424242', { cvc: '12a' })).toEqual(['/card/cvc']);
    });

    it('Idempotency-Keys: empty, longer than 255 characters, or with spaces', () => {
      const header = op('createCharge').header!;
      expect(errorsOf(header, { 'idempotency-key': '8a1f5c2e-4b7d-4e3a-9c6f-2d1e0b9a7c54' }, 'header')).toEqual([]);
      expect(errorsOf(header, { 'idempotency-key': 'k'.repeat(255) }, 'header')).toEqual([]);
      expect(errorsOf(header, {}, 'header')).toEqual([]);
      for (const key of ['', 'k'.repeat(256), 'order 42']) {
        expect(placesOf(errorsOf(header, { 'idempotency-key': key }, 'header')), `${key.length} characters`).toEqual(['idempotency-key']);
      }
    });

    it('ids in paths and list parameters (limit 1 to 100, unknown parameters refused)', () => {
      const path = op('getCharge').path!;
      expect(errorsOf(path, { id: 'ch_3RbK9xQ2mLp7VwZc' }, 'path')).toEqual([]);
      for (const id of ['42', 'ch_', 'cus_RbK7nQ2mLp7Fa9', 'ch_3RbK-9x']) expect(placesOf(errorsOf(path, { id }, 'path')), id).toEqual(['id']);
      expect(placesOf(errorsOf(op('getCustomer').path!, { id: 'ch_3RbK9xQ2mLp7VwZc' }, 'path'))).toEqual(['id']);

      // query strings arrive as strings: the query validator coerces them, as the engine does
      const query = op('listCharges').query!;
      expect(errorsOf(query, { limit: '100', customer: 'cus_RbK7nQ2mLp7Fa9', starting_after: 'ch_3RbK9xQ2mLp7VwZc' }, 'query')).toEqual([]);
      for (const limit of ['0', '101', '2.5', 'ten']) expect(placesOf(errorsOf(query, { limit }, 'query')), limit).toEqual(['limit']);
      expect(placesOf(errorsOf(query, { ending_before: 'ch_3RbK9xQ2mLp7VwZc' }, 'query'))).toEqual(['ending_before']);
      expect(placesOf(errorsOf(op('listLedgerEntries').query!, { starting_after: 'ch_3RbK9xQ2mLp7VwZc' }, 'query'))).toEqual(['starting_after']);
    });
  });

  it('bounds amounts and currencies as the issue says (the cap configurable below 99999999)', () => {
    const { Amount, Currency, Error } = doc.components.schemas;
    expect([Amount.type, Amount.minimum, Amount.maximum]).toEqual(['integer', 1, 99999999]);
    expect(Amount.description).toContain('systems.payments.maxAmount');
    expect(Currency.enum).toEqual(['usd', 'eur', 'gbp', 'jpy', 'chf', 'cad', 'aud', 'sek', 'nok', 'dkk']);
    expect(Error.properties.error.properties.type.enum).toEqual(['api_error', 'card_error', 'idempotency_error', 'invalid_request_error']);
    expect(op('listCharges').operation.parameters).toContainEqual({ $ref: '#/components/parameters/Limit' });
    expect(doc.components.parameters.Limit.schema).toEqual({ type: 'integer', minimum: 1, maximum: 100, default: 10 });
  });
});
