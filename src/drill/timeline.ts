/**
 * What the drill reads off a profile's timeline before it starts: where `--start-at` puts it (a phase name or a
 * duration, refused here with the phase names before any server is touched) and how long there is to follow
 * from there (the sum of the phase lengths after the start point; none when the last phase is open-ended or
 * there is no timeline, so the drill follows until it is interrupted).
 */
import type { CompiledProfile } from '../chaos/profile.js';
import { DURATION_FORMAT, parseDuration } from '../util/units.js';
import { DrillError } from './drill-error.js';

export interface StartAt {
  /** as the timeline route takes it */
  body: { at: string } | { phase: string };
  /** the point on the timeline, ms from its start */
  ms: number;
}

/** Reads --start-at: a phase of the profile's timeline, or a duration inside it. */
export function parseStartAt(value: string, profile: CompiledProfile): StartAt {
  const phase = profile.phases.find((p) => p.name === value);
  if (phase) return { body: { phase: phase.name }, ms: phase.startMs };
  const names = profile.phases.map((p) => p.name);
  if (!/^\d/.test(value)) {
    const known = names.length ? `its phases are ${names.join(', ')}` : 'it has no timeline';
    throw new DrillError([`--start-at ${value}: not a phase of ${profile.name} (${known}) nor ${DURATION_FORMAT}`]);
  }
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    throw new DrillError([`--start-at ${value}: not ${DURATION_FORMAT} nor a phase name`]);
  }
  const end = timelineEndMs(profile);
  if (profile.phases.length === 0) throw new DrillError([`--start-at ${value}: ${profile.name} has no timeline to move along`]);
  if (end !== undefined && ms >= end) throw new DrillError([`--start-at ${value}: ${profile.name}'s timeline ends at ${formatMs(end)}`]);
  return { body: { at: value }, ms };
}

/** Where the timeline ends (ms from its start), or undefined when it never does: no phases, or an open last one. */
export function timelineEndMs(profile: CompiledProfile): number | undefined {
  const last = profile.phases.at(-1);
  return last && Number.isFinite(last.endMs) ? last.endMs : undefined;
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
