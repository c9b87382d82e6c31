/**
 * The records of a stateful contract (resources/resource-state.ts): deterministic ids of each kind, never reused,
 * a cap that refuses, hostile keys kept as data, and JSON snapshots that restore the same state or are refused
 * when they are not one.
 */
import { describe, expect, it } from 'vitest';
import { ResourceState } from '../../../../src/protocols/rest/resources/resource-state.js';
import { ManualClock } from '../../../../src/util/clock.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('ResourceState', () => {
  it('makes ids from (seed, collection, sequence): the same in every run, other in another collection or seed', () => {
    const a = new ResourceState(1, new ManualClock(), 10);
    const b = new ResourceState(1, new ManualClock(), 10);
    expect(a.newId('c', 'uuid')).toMatch(UUID);
    expect(a.newId('c', 'uuid')).toBe(b.newId('c', 'uuid'));
    expect(a.newId('c', 'uuid')).not.toBe(a.newId('d', 'uuid'));
    expect(a.newId('c', 'uuid')).not.toBe(new ResourceState(2, new ManualClock(), 10).newId('c', 'uuid'));
    expect(a.newId('c', 'string')).toMatch(/^[a-z0-9]{12}$/);
    expect(a.newId('c', 'integer')).toBe(1);
  });

  it('never gives out an id twice, a deleted one included; a full state says so', () => {
    const s = new ResourceState(1, new ManualClock(), 3);
    s.insert('c', s.newId('c', 'integer')!, { n: 1 });
    s.insert('c', 7, { n: 7 });
    expect(s.newId('c', 'integer')).toBe(8);
    s.insert('c', 8, { n: 8 });
    expect(s.full).toBe(true);
    s.remove('c', '8');
    expect(s.full).toBe(false);
    expect(s.newId('c', 'integer')).toBe(9);
    expect(s.list('c')).toEqual([{ n: 1 }, { n: 7 }]);
  });

  it("generates ids from a contract's own id schema, and gives up when it allows no free one", () => {
    const s = new ResourceState(1, new ManualClock(), 10);
    const one = (seed: number) => `PO-${seed % 2}`;
    const first = s.newId('c', 'string', one)!;
    expect(first).toMatch(/^PO-[01]$/);
    s.insert('c', first, {});
    s.insert('c', first === 'PO-0' ? 'PO-1' : 'PO-0', {});
    expect(s.newId('c', 'string', one)).toBeUndefined();
  });

  it('keeps __proto__ and constructor as ordinary ids, and restores from its snapshot', () => {
    const s = new ResourceState(1, new ManualClock(), 10);
    const record = JSON.parse('{"__proto__": {"polluted": true}, "name": "x"}');
    s.insert('c', '__proto__', record);
    s.insert('c', 'constructor', { name: 'y' });
    expect(s.get('c', '__proto__')).toBe(record);
    expect(s.get('c', 'toString')).toBeUndefined();
    expect(s.has('c', 'hasOwnProperty')).toBe(false);
    const restored = ResourceState.restore(s.snapshot(), 1, new ManualClock(), 10);
    expect(restored.list('c')).toEqual(s.list('c'));
    expect(restored.size).toBe(2);
    expect(restored.sequence('c')).toBe(s.sequence('c'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses bytes that are not one of its snapshots', () => {
    const restore = (text: string) => () => ResourceState.restore(Buffer.from(text), 1, new ManualClock(), 10);
    expect(restore('{"v":2,"collections":[]}')).toThrow(/not a snapshot of a stateful contract/);
    expect(restore('{"v":1,"collections":[[1,1,[]]]}')).toThrow(/malformed collection/);
    expect(restore('{"v":1,"collections":[["c",1,[["a",null]]]]}')).toThrow(/malformed record/);
    expect(restore('not json')).toThrow();
  });
});
