/**
 * The outage windows a report judges against: the clock intervals in which a rule with an `outage` fault was
 * open, in a timeline phase or a `when` window. Measured on the timeline's own clock: the chaos stage keeps the
 * segments of its timeline (activation, restarts, jumps from POST /__admin/chaos/timeline), and each rule's
 * window, defined in timeline time, is mapped back to clock time segment by segment. A drill that jumps straight
 * to its outage phase has a window from the jump, not from where the phase would have started unjumped.
 */
import type { ChaosEngine, TimelineSegment } from '../chaos/chaos-stage.js';
import type { CompiledRule } from '../chaos/profile.js';
import type { Outage } from './context.js';

interface OutageRule {
  rule: CompiledRule;
  phase: string | null;
  /** where the rule's window is open, in timeline ms */
  from: number;
  to: number;
}

function outageRules(engine: ChaosEngine): OutageRule[] {
  const isOutage = (r: CompiledRule) => r.faults.some((f) => f.kind.kind === 'outage');
  const rules: OutageRule[] = engine.profile.rules.filter(isOutage).map((rule) => ({ rule, phase: null, from: rule.afterMs, to: rule.afterMs + rule.forMs }));
  for (const phase of engine.profile.phases) {
    for (const rule of phase.rules.filter(isOutage)) {
      const from = phase.startMs + rule.afterMs;
      rules.push({ rule, phase: phase.name, from, to: Math.min(phase.endMs, from + rule.forMs) });
    }
  }
  return rules;
}

/** ids of the rules with an `outage` fault, wherever they stand in the profile */
export function outageRuleIds(engine: ChaosEngine | undefined): string[] {
  return engine === undefined ? [] : outageRules(engine).map((r) => r.rule.id);
}

/** Clock intervals in which [from, to) of the timeline was live, given its segments, up to `now`. */
export function clockIntervals(segments: readonly TimelineSegment[], from: number, to: number, now: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    const segmentEnd = i + 1 < segments.length ? segments[i + 1].at : Infinity;
    const start = Math.max(s.at, s.at + (from - s.elapsedMs));
    const end = Math.min(segmentEnd, s.at + (to - s.elapsedMs));
    if (start >= end || start > now) continue;
    const last = out[out.length - 1];
    // a jump to a point inside the same window continues it
    if (last && last[1] === start) last[1] = end;
    else out.push([start, end]);
  }
  return out;
}

/** A fault of an outage rule some entry carried (any kind the rule has, in arrival order). */
export interface OutageFault {
  id: number;
  at: number;
  system: string;
  rule: string;
  kind: string;
}

/**
 * The outage windows that overlap [since, until], with the systems their rules' faults hit and the first entry the
 * outage fault answered. An open window has end Infinity.
 */
export function outageWindows(engine: ChaosEngine | undefined, faults: readonly OutageFault[], since: number, until: number): Outage[] {
  if (engine === undefined) return [];
  const windows: Outage[] = [];
  for (const r of outageRules(engine)) {
    for (const [start, end] of clockIntervals(engine.timeline, r.from, r.to, until)) {
      if (end < since) continue;
      const systems = new Set<string>();
      let firstFault: Outage['firstFault'] = null;
      for (const f of faults) {
        if (f.at < start || f.at >= end || f.rule !== r.rule.id) continue;
        systems.add(f.system);
        if (firstFault === null && f.kind === 'outage') firstFault = { id: f.id, at: f.at };
      }
      windows.push({ rule: r.rule.id, phase: r.phase, start, end: end > until ? Infinity : end, systems, firstFault });
    }
  }
  return windows.sort((a, b) => a.start - b.start);
}
