/**
 * Which resources a contract has (resources/infer.ts): collection and item paths paired by shape (parameter names
 * may differ), nested collections scoped by their parents, the id property and the resource schema picked as the
 * README says, x-understudy-resource naming, joining and opting out, and malformed declarations refused with a
 * message naming the path.
 */
import { describe, expect, it } from 'vitest';
import { documentWantsState, inferResources } from '../../../../src/protocols/rest/resources/infer.js';

const ok = (schema: unknown) => ({ description: 'ok', content: { 'application/json': { schema } } });
const body = (schema: unknown) => ({ required: true, content: { 'application/json': { schema } } });
const param = (name: string, schema: unknown = { type: 'string' }) => ({ name, in: 'path', required: true, schema });
const doc = (paths: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ openapi: '3.0.3', info: { title: 't', version: '1' }, paths, ...extra });

const thing = { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } };

describe('inferring resources', () => {
  it('pairs a collection with its item path (whatever the parameter is called) and names their operations', () => {
    const [r, ...rest] = inferResources(
      doc({
        '/things': { post: { operationId: 'add', requestBody: body(thing), responses: { '201': ok(thing) } }, get: { operationId: 'list', responses: { '200': ok({ type: 'array', items: thing }) } } },
        '/things/{thingKey}': {
          parameters: [param('thingKey', { type: 'integer' })],
          get: { operationId: 'read', responses: { '200': ok(thing) } },
          put: { operationId: 'put', requestBody: body(thing), responses: { '200': ok(thing) } },
          patch: { operationId: 'patch', requestBody: body(thing), responses: { '200': ok(thing) } },
          delete: { operationId: 'remove', responses: { '204': { description: 'gone' } } },
        },
      }),
    );
    expect(rest).toEqual([]);
    expect(r).toMatchObject({ label: 'things', collectionPath: '/things', itemPath: '/things/{thingKey}', idProperty: 'id', idKind: 'integer', clientIds: true });
    expect(r.operations.map((o) => [o.id, o.action, o.itemParam ?? null])).toEqual([
      ['add', 'create', null],
      ['list', 'list', null],
      ['read', 'read', 'thingKey'],
      ['put', 'replace', 'thingKey'],
      ['patch', 'update', 'thingKey'],
      ['remove', 'delete', 'thingKey'],
    ]);
  });

  it('scopes a nested collection by its parent parameters, by position', () => {
    const order = { type: 'object', properties: { orderNo: { type: 'string', format: 'uuid' }, storeId: { type: 'string' } } };
    const resources = inferResources(
      doc({
        '/stores/{store}/orders': { parameters: [param('store')], post: { requestBody: body(order), responses: { '201': ok(order) } } },
        '/stores/{storeId}/orders/{orderNo}': { parameters: [param('storeId'), param('orderNo')], get: { responses: { '200': ok(order) } } },
      }),
    );
    expect(resources).toHaveLength(1);
    const [r] = resources;
    // the item path parameter's name is a property: it is the id
    expect(r).toMatchObject({ idProperty: 'orderNo', idKind: 'uuid' });
    expect(r.operations.map((o) => [o.id, o.scope])).toEqual([
      ['POST /stores/{store}/orders', ['store']],
      ['GET /stores/{storeId}/orders/{orderNo}', ['storeId']],
    ]);
  });

  it.each([
    ['the property named for the resource', { customerId: { type: 'string' }, accountId: { type: 'string' } }, 'customerId', 'string'],
    ['the one property named like an id', { email: { type: 'string' }, ref_id: { type: 'integer' } }, 'ref_id', 'integer'],
    ['none: the id lives only in the path', { a_id: { type: 'string' }, b_id: { type: 'string' } }, undefined, 'string'],
  ])('picks the id property: %s', (_what, properties, idProperty, idKind) => {
    const customer = { type: 'object', properties };
    const [r] = inferResources(doc({ '/customers': { post: { requestBody: body(customer), responses: { '201': ok(customer) } } }, '/customers/{key}': { get: { parameters: [param('key')], responses: { '200': ok(customer) } } } }));
    expect(r.idProperty).toBe(idProperty);
    expect(r.idKind).toBe(idKind);
  });

  it("takes the item GET's schema over POST's, and a readOnly id is the server's", () => {
    const full = { type: 'object', properties: { id: { type: 'string', readOnly: true }, name: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' }, modified_at: { type: 'string', readOnly: true } } };
    const [r] = inferResources(
      doc({
        '/notes': { post: { requestBody: body({ type: 'object', properties: { name: { type: 'string' } } }), responses: { '202': ok({ type: 'object', properties: { ticket: { type: 'string' } } }) } } },
        '/notes/{id}': { parameters: [param('id')], get: { responses: { '200': ok(full) } } },
      }),
    );
    expect([...r.schema.properties.keys()]).toEqual(['id', 'name', 'createdAt', 'modified_at']);
    expect(r.clientIds).toBe(false);
    expect([...r.schema.createdStamps.keys()]).toEqual(['createdAt']);
    expect([...r.schema.updatedStamps.keys()]).toEqual(['modified_at']);
  });

  it('leaves out what nothing could fill, sub-resources, JSON Patch and binary bodies', () => {
    const resources = inferResources(
      doc({
        '/reports': { get: { responses: { '200': ok({ type: 'array', items: thing }) } } },
        '/things': { post: { requestBody: body(thing), responses: { '201': ok(thing) } } },
        '/things/{id}': {
          parameters: [param('id')],
          patch: { requestBody: { content: { 'application/json-patch+json': { schema: { type: 'array' } } } }, responses: { '200': ok(thing) } },
          put: { requestBody: { content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } }, responses: { '204': { description: 'ok' } } },
          delete: { responses: { '204': { description: 'gone' } } },
        },
        '/things/{id}/photo': { parameters: [param('id')], put: { responses: { '204': { description: 'ok' } } } },
      }),
    );
    expect(resources.map((r) => r.label)).toEqual(['things']);
    expect(resources[0].operations.map((o) => o.action)).toEqual(['create', 'delete']);
  });

  it('x-understudy-resource joins paths under one name, sets the id, and false opts a path out', () => {
    const pet = { type: 'object', properties: { petId: { type: 'integer' }, ownerId: { type: 'integer' }, name: { type: 'string' } } };
    const resources = inferResources(
      doc({
        '/pet': { 'x-understudy-resource': { name: 'pets', id: 'petId' }, post: { requestBody: body(pet), responses: { '200': ok(pet) } } },
        '/pet/{anything}': { parameters: [param('anything', { type: 'integer' })], get: { responses: { '200': ok(pet) } } },
        '/toys': { post: { requestBody: body(thing), responses: { '201': ok(thing) } } },
        '/toys/{id}': { 'x-understudy-resource': false, parameters: [param('id')], get: { responses: { '200': ok(thing) } } },
      }),
    );
    expect(resources.map((r) => [r.key, r.label, r.idProperty, r.itemPath ?? null])).toEqual([
      ['name:pets', 'pets', 'petId', '/pet/{anything}'],
      ['toys', 'toys', 'id', null],
    ]);
  });

  it('refuses a malformed declaration, naming the path', () => {
    const one = (declared: unknown) => () => inferResources(doc({ '/a': { 'x-understudy-resource': declared, post: { responses: { '200': ok(thing) } } } }));
    expect(one('yes')).toThrow('/a: x-understudy-resource is { name, id } or false, not "yes"');
    expect(one({ name: 'a b' })).toThrow(/name must be a short word/);
    expect(one({ idd: 'x' })).toThrow('/a: x-understudy-resource takes name and id, not idd');
    expect(() =>
      inferResources(doc({ '/a': { 'x-understudy-resource': { name: 'x' }, post: { responses: {} } }, '/b': { 'x-understudy-resource': { name: 'x' }, post: { responses: {} } } })),
    ).toThrow(/\/a and \/b are both the collection path of the resource x/);
  });

  it('the document asks for state with x-understudy-stateful or any x-understudy-resource object', () => {
    expect(documentWantsState(doc({}))).toBe(false);
    expect(documentWantsState(doc({}, { 'x-understudy-stateful': true }))).toBe(true);
    expect(documentWantsState(doc({ '/a': { 'x-understudy-resource': false } }))).toBe(false);
    expect(documentWantsState(doc({ '/a': { 'x-understudy-resource': { name: 'a' } } }))).toBe(true);
  });
});
