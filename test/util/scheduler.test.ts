/**
 * The real scheduler with waits longer than setTimeout keeps (2^31 - 1 ms, about 24.8 days; a longer one would
 * fire at once): a retry policy of `cap: 30d`, or a chaos delay of weeks, must wait as long as it says.
 * Time is vitest's fake timers, so nothing waits.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { realScheduler } from '../../src/util/scheduler.js';

const DAY = 86_400_000;

afterEach(() => {
  vi.useRealTimers();
});

describe('realScheduler', () => {
  it('waits 40 days when asked to, and a long wait can be cancelled at any hop', () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    realScheduler.after(40 * DAY, () => fired.push('40d'));
    const cancelled = realScheduler.after(60 * DAY, () => fired.push('60d'));
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(40 * DAY - 2);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['40d']);
    // the 60-day timer is on its second hop now: cancelling still works
    cancelled.cancel();
    vi.advanceTimersByTime(30 * DAY);
    expect(fired).toEqual(['40d']);
  });

  it('rounds fractional delays up, so a wait never ends early', () => {
    vi.useFakeTimers();
    let fired = false;
    realScheduler.after(10.2, () => (fired = true));
    vi.advanceTimersByTime(10);
    expect(fired).toBe(false);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(true);
  });
});
