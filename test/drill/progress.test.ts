/**
 * The drill's progress display and its reading of --start-at: a redrawn line in a terminal, a line per phase
 * (and a periodic summary) elsewhere; phase names and durations checked against the profile before anything
 * starts.
 */
import { describe, expect, it } from 'vitest';
import { profileFromText } from '../../src/chaos/profile.js';
import { DrillError } from '../../src/drill/drill-error.js';
import { ProgressDisplay, type ProgressSample } from '../../src/drill/progress.js';
import { formatMs, parseStartAt, timelineEndMs } from '../../src/drill/timeline.js';

const sample = (over: Partial<ProgressSample>): ProgressSample => ({
  profile: 'p',
  phase: 'calm',
  phaseIndex: 0,
  phases: 3,
  elapsedMs: 0,
  endMs: 420_000,
  requests: 0,
  faults: 0,
  clientErrors: { '4xx': 0, '5xx': 0, none: 0 },
  ...over,
});

function output(isTTY: boolean) {
  let text = '';
  return { out: { isTTY, columns: 60, write: (t: string) => (text += t) }, text: () => text };
}

describe('progress', () => {
  it('prints a line per phase and a summary every so often when not in a terminal', () => {
    const o = output(false);
    const display = new ProgressDisplay(o.out, { redraw: false, summaryEveryMs: 10_000 });
    display.update(sample({ elapsedMs: 5 }));
    display.update(sample({ elapsedMs: 4000, requests: 10 }));
    display.update(sample({ elapsedMs: 11_000, requests: 1234 }));
    display.update(sample({ phase: 'outage', phaseIndex: 1, elapsedMs: 60_000, requests: 2000, faults: 40, clientErrors: { '4xx': 1, '5xx': 39, none: 2 } }));
    display.update(sample({ phase: null, phaseIndex: null, elapsedMs: 420_100, requests: 2500 }));
    display.finish();
    expect(o.text().split('\n')).toEqual([
      'understudy drill: phase calm (1/3) began at 5ms; 0 requests, 0 faults, 0 client errors so far',
      'understudy drill: phase calm (1/3), 11s / 7m; 1,234 requests, 0 faults, 0 client errors',
      'understudy drill: phase outage (2/3) began at 1m; 2,000 requests, 40 faults, 42 client errors (4xx 1, 5xx 39, no response 2) so far',
      'understudy drill: the timeline has run at 7m; 2,500 requests, 0 faults, 0 client errors so far',
      '',
    ]);
  });

  it('redraws one line within the terminal width, and ends it before anything else is printed', () => {
    const o = output(true);
    const display = new ProgressDisplay(o.out, { redraw: true });
    display.update(sample({ elapsedMs: 1000 }));
    display.update(sample({ elapsedMs: 2000, requests: 5, clientErrors: { '4xx': 0, '5xx': 5, none: 0 } }));
    display.note('lost contact');
    const frames = o.text().split('\r\x1b[2K').filter(Boolean);
    expect(frames[0]).toBe('phase calm (1/3), 1s / 7m; 0 requests, 0 faults, 0 client …');
    expect(frames.every((f) => f.split('\n')[0].length < 60)).toBe(true);
    expect(o.text().endsWith('\nunderstudy drill: lost contact\n')).toBe(true);
  });
});

describe('--start-at and the end of the timeline', () => {
  const profile = profileFromText(
    'name: t\ntimeline:\n  - { phase: calm, for: 1m }\n  - { phase: outage, for: 3m, rules: [ { id: down, match: { system: wms }, faults: [ reset ] } ] }\n  - { phase: after, for: 2m }\n',
  );

  it('takes a phase or a point on the timeline', () => {
    expect(parseStartAt('outage', profile)).toEqual({ body: { phase: 'outage' }, ms: 60_000 });
    expect(parseStartAt('90s', profile)).toEqual({ body: { at: '90s' }, ms: 90_000 });
    expect(timelineEndMs(profile)).toBe(360_000);
  });

  it('refuses unknown phases and points past the end, naming the phases', () => {
    const refused = (value: string, p = profile) => {
      try {
        parseStartAt(value, p);
      } catch (err) {
        expect(err).toBeInstanceOf(DrillError);
        return (err as DrillError).message;
      }
      throw new Error(`${value} was accepted`);
    };
    expect(refused('outgae')).toBe('--start-at outgae: not a phase of t (its phases are calm, outage, after) nor a duration such as 250ms, 5s, 2m, 1h or 1d');
    expect(refused('7m')).toBe("--start-at 7m: t's timeline ends at 6m");
    // the end itself is a point on the timeline, as the server's route has it
    expect(parseStartAt('6m', profile).ms).toBe(360_000);
    expect(refused('5 minutes')).toMatch(/^--start-at 5 minutes: not a duration/);
    expect(refused('10s', profileFromText('name: calm\nrules: []\n'))).toMatch(/nothing in calm depends on time/);
  });

  it('has no end to wait for when the last phase is open-ended, or a when window never closes', () => {
    expect(timelineEndMs(profileFromText('name: o\ntimeline:\n  - { phase: a, for: 1m }\n  - { phase: b }\n'))).toBeUndefined();
    expect(timelineEndMs(profileFromText('name: w\nrules:\n  - { id: r, match: { system: wms }, when: { after: 30s, for: 2m }, faults: [ reset ] }\n'))).toBe(150_000);
    expect(timelineEndMs(profileFromText('name: c\nrules: []\n'))).toBeUndefined();
  });

  it('reads spans as a person does', () => {
    expect([0, 250, 1500, 60_000, 90_000, 3_600_000, 3_661_000].map(formatMs)).toEqual(['0s', '250ms', '1.5s', '1m', '1m30s', '1h0m', '1h1m1s']);
  });
});
