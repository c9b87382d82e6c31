/**
 * JSON Merge Patch (RFC 7386) as the stateful PATCH applies it: the RFC's own examples, keys the caller may not
 * touch, and hostile keys that must become own properties, never a prototype.
 */
import { describe, expect, it } from 'vitest';
import { mergePatch, setOwn } from '../../../../src/protocols/rest/resources/record-values.js';

describe('mergePatch', () => {
  // RFC 7386 appendix A
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j patched with %j is %j', (target, patch, result) => {
    expect(mergePatch(target, patch)).toEqual(result);
  });

  it('leaves the target alone, skips the keys it is told to', () => {
    const target = { id: 1, name: 'a', nested: { x: 1 } };
    expect(mergePatch(target, { id: 9, name: 'b', nested: { y: 2 } }, new Set(['id']))).toEqual({ id: 1, name: 'b', nested: { x: 1, y: 2 } });
    expect(target).toEqual({ id: 1, name: 'a', nested: { x: 1 } });
  });

  it('makes __proto__ and constructor own properties, at any depth', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "inner": {"__proto__": {"polluted": true}}, "constructor": {"prototype": {"polluted": true}}}');
    const out = mergePatch({}, patch) as Record<string, any>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'inner', 'constructor']);
    expect(Object.getPrototypeOf(out.inner)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const record: Record<string, unknown> = {};
    setOwn(record, '__proto__', { polluted: true });
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(JSON.stringify(record)).toBe('{"__proto__":{"polluted":true}}');
  });
});
