/**
 * An attempt as the report card reads it from the journal, built by hand for the checks' edge cases: every field
 * at a neutral default (a successful WMS read by client `c`), ids and times counting up unless given.
 */
import type { Attempt } from '../../src/report/attempts.js';

let nextId = 1;

export function attemptOf(fields: Partial<Attempt> = {}): Attempt {
  const id = nextId++;
  return {
    id,
    start: id * 100,
    end: id * 100 + 5,
    status: 200,
    client: 'c',
    system: 'wms',
    operation: 'getInventoryItem',
    method: 'GET',
    safe: true,
    key: null,
    keyFromHeader: false,
    fingerprint: 'f',
    failed: false,
    faults: [],
    faultRules: [],
    retryAfterUntil: null,
    abandoned: false,
    outwaited: false,
    created: [],
    place: -1,
    mayHaveCreated: false,
    records: null,
    highestSeq: null,
    selectedFields: null,
    grant: null,
    authMethod: null,
    scopes: [],
    requiredScopes: [],
    authFlags: [],
    ...fields,
  };
}
