/**
 * Follows a workspace's drill from the outside, through the admin API: polls where the timeline is and what the
 * traffic met (about once a second, sooner when the timeline ends sooner) and feeds the progress display, until
 * the timeline has run or the drill is stopped (an interruption, or COMMAND exiting in embedded mode).
 */
import type { AdminClient, ChaosState, WorkspaceState } from './admin-client.js';
import type { ProgressDisplay, ProgressSample } from './progress.js';

const POLL_MS = 1000;

/** The counters when the profile was activated: the progress shows the drill's own traffic, not the workspace's. */
export interface Baseline {
  /** server time of the activation (ISO), the journal filter for exchanges with no response */
  since: string;
  requests: number;
  byStatus: Record<string, number>;
}

export function baselineOf(state: WorkspaceState, since: string): Baseline {
  return { since, requests: state.counters.requests, byStatus: { ...state.counters.byStatus } };
}

export async function sample(client: AdminClient, baseline: Baseline, phases: number, endMs: number | undefined): Promise<{ chaos: ChaosState; sample: ProgressSample }> {
  const [chaos, workspace, noResponse] = await Promise.all([
    client.chaos(),
    client.workspace(),
    // the counters do not show status 0 (no response written); the journal's filtered total does
    client.journal({ since: baseline.since, status: '0', limit: '1' }),
  ]);
  const delta = (cls: string) => (workspace.counters.byStatus[cls] ?? 0) - (baseline.byStatus[cls] ?? 0);
  const faults = chaos.rules.reduce((n, r) => n + Object.values(r.injected).reduce((a, b) => a + b, 0), 0);
  return {
    chaos,
    sample: {
      profile: chaos.profile.name,
      phase: chaos.phase?.name ?? null,
      phaseIndex: chaos.phase?.index ?? null,
      phases,
      elapsedMs: chaos.elapsedMs,
      endMs,
      requests: workspace.counters.requests - baseline.requests,
      faults,
      clientErrors: { '4xx': delta('4xx'), '5xx': delta('5xx'), none: noResponse.total },
    },
  };
}

export interface FollowOptions {
  client: AdminClient;
  baseline: Baseline;
  display: ProgressDisplay;
  phases: number;
  /** stop once the timeline's clock passes this (ms); undefined: only `stop` ends it */
  endMs?: number;
  /** aborted on interruption, or when COMMAND exits */
  stop: AbortSignal;
  /** where the timeline should be by this process's clock: ends the drill on time while the server does not answer */
  estimate?: () => number;
}

/** Resolves with the last state seen, once the timeline has run or `stop` fired. */
export async function follow(options: FollowOptions): Promise<ChaosState | undefined> {
  const { client, baseline, display, phases, endMs, stop } = options;
  let last: ChaosState | undefined;
  let lastProblem = '';
  while (!stop.aborted) {
    let wait = POLL_MS;
    try {
      const now = await sample(client, baseline, phases, endMs);
      last = now.chaos;
      lastProblem = '';
      display.update(now.sample);
      if (endMs !== undefined) {
        if (now.chaos.elapsedMs >= endMs) break;
        // wake when the timeline ends rather than up to a second after it (a short drill in a test, a CI job)
        wait = Math.min(wait, endMs - now.chaos.elapsedMs);
      }
      // and when the phase does, so that a phase shorter than the poll is still seen beginning
      const phaseEnds = now.chaos.phase?.endsInMs;
      if (typeof phaseEnds === 'number') wait = Math.min(wait, phaseEnds + 5);
    } catch (err) {
      // a deployed server may blip; say so once and keep following: the report decides whether it is really gone
      const problem = err instanceof Error ? err.message : String(err);
      if (problem !== lastProblem) display.note(`could not read the drill's progress: ${problem}`);
      lastProblem = problem;
      // a server gone for good must not keep the drill waiting forever: the report will say whether it is back
      if (endMs !== undefined && options.estimate && options.estimate() >= endMs) break;
    }
    await sleep(wait, stop);
  }
  display.finish();
  return last;
}

function sleep(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    stop.addEventListener('abort', done, { once: true });
  });
}
