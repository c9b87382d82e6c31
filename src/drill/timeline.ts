/**
 * What the drill reads off a profile's timeline before it starts: where `--start-at` puts it (a phase name or a
 * duration, refused here with the phase names before any server is touched) and how long there is to follow
 * from there (until its phases and `when` windows have run; never when the last of them is open-ended or nothing
 * depends on time, so the drill follows until it is interrupted).
 */
import { timelineEnd } from '../chaos/chaos-stage.js';
import type { CompiledProfile } from '../chaos/profile.js';
import { DURATION_FORMAT, parseDuration } from '../util/units.js';
import { DrillError } from './drill-error.js';

export interface StartAt {
  /** as the timeline route takes it */
  body: { at: string } | { phase: string };
  /** the point on the timeline, ms from its start */
  ms: number;
}

/** Reads --start-at: a phase of the profile's timeline, or a point on it before its end. */
export function parseStartAt(value: string, profile: CompiledProfile): StartAt {
  const phase = profile.phases.find((p) => p.name === value);
  if (phase) return { body: { phase: phase.name }, ms: phase.startMs };
  const names = profile.phases.map((p) => p.name);
  const phases = names.length ? `its phases are ${names.join(', ')}` : 'it has no phases';
  if (!/^\d/.test(value)) throw new DrillError([`--start-at ${value}: not a phase of ${profile.name} (${phases}) nor ${DURATION_FORMAT}`]);
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    throw new DrillError([`--start-at ${value}: not ${DURATION_FORMAT} nor a phase of ${profile.name} (${phases})`]);
  }
  const end = timelineEnd(profile);
  if (end === undefined) throw new DrillError([`--start-at ${value}: nothing in ${profile.name} depends on time (no timeline, no when windows), so there is nothing to move`]);
  // the end itself is a point on the timeline (the server's route takes it too): past it is refused
  if (ms > end) throw new DrillError([`--start-at ${value}: ${profile.name}'s timeline ends at ${formatMs(end)}`]);
  return { body: { at: value }, ms };
}

/**
 * Where a followed drill ends (ms from the timeline's start): once its phases and `when` windows have all run;
 * undefined when that is never (an open-ended last phase or window) or nothing depends on time, and only an
 * interruption ends the drill.
 */
export function timelineEndMs(profile: CompiledProfile): number | undefined {
  const end = timelineEnd(profile);
  return end !== undefined && Number.isFinite(end) ? end : undefined;
}

/** "90s", "3m", "1m30s", "250ms": a span as a person reads it in progress lines and summaries. */
export function formatMs(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`.replace(/\.0s$/, 's');
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h ? h + 'h' : ''}${m ? m + 'm' : h ? '0m' : ''}${s ? s + 's' : ''}` || '0s';
}
