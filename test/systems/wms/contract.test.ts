/**
 * The WMS contract itself: a valid OpenAPI 3.0 document that Salesforce External Services can import, whose
 * operations are exactly the handlers', whose examples match their own schemas, and whose enumerations agree
 * with the code.
 */
import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { CATEGORIES } from '../../../src/systems/wms/catalogue.js';
import { wmsHandlers } from '../../../src/systems/wms/index.js';
import { CONTRACT_FILE, operations, rawContract, schemaValidator } from './fixtures.js';

describe('contracts/wms.openapi.yaml', () => {
  it('is a valid OpenAPI 3.0 document', async () => {
    const result = await validate(CONTRACT_FILE);
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(rawContract.openapi).toMatch(/^3\.0\.\d$/);
  });

  it('is mounted at /wms/v1 and rejects unknown query parameters', () => {
    expect(new URL(rawContract.servers[0].url).pathname).toBe('/wms/v1');
    expect(rawContract['x-understudy-strict-query']).toBe(true);
  });

  it('has exactly the operations the handlers implement', () => {
    expect(operations().map((o) => o.operationId).sort()).toEqual(Object.keys(wmsHandlers).sort());
  });

  it('has the two routes the product promises', () => {
    const route = (method: string, path: string) => operations().find((o) => o.method === method && o.path === path)?.operationId;
    expect(route('get', '/inventory/{sku}')).toBe('getInventory');
    expect(route('post', '/reservations')).toBe('createReservation');
    expect(route('delete', '/reservations/{reservationId}')).toBe('releaseReservation');
  });

  it('uses the same path-parameter name at the same position under each prefix (router requirement)', () => {
    const names = new Map<string, string>();
    for (const path of Object.keys(rawContract.paths)) {
      const segments = path.split('/');
      segments.forEach((segment, i) => {
        if (!segment.startsWith('{')) return;
        const prefix = segments.slice(0, i).join('/');
        expect(names.get(prefix) ?? segment, `${path}`).toBe(segment);
        names.set(prefix, segment);
      });
    }
  });

  it('declares problem+json for every error response', () => {
    for (const { operationId, operation } of operations()) {
      for (const [status, response] of Object.entries<any>(operation.responses)) {
        if (Number(status) < 400) continue;
        expect(Object.keys(response.content ?? {}), `${operationId} ${status}`).toEqual(['application/problem+json']);
      }
    }
  });

  it('has examples that match their own schemas', () => {
    let checked = 0;
    for (const { operationId, operation } of operations()) {
      const media = [
        ...Object.entries<any>(operation.requestBody?.content ?? {}).map(([type, m]) => [`request ${type}`, m]),
        ...Object.entries<any>(operation.responses).flatMap(([status, r]) =>
          Object.entries<any>(r.content ?? {}).map(([type, m]) => [`${status} ${type}`, m]),
        ),
      ];
      for (const [where, m] of media) {
        if (m.example === undefined || !m.schema) continue;
        const validate = schemaValidator(m.schema);
        expect(validate(m.example) ? [] : validate.errors, `${operationId} ${where} example`).toEqual([]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it('enumerates the categories the catalogue uses', () => {
    expect(rawContract.components.schemas.Category.enum).toEqual([...CATEGORIES]);
  });
});
