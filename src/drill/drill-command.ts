/**
 * `understudy drill FILE`: activate a profile on a workspace, let traffic meet it, and hand back the report card.
 *
 *   --url URL        a running server: the profile is PUT on the workspace, the drill follows the timeline with a
 *                    live progress line, and reports once the timeline has run (open-ended: once interrupted);
 *   -- COMMAND...    an embedded server on a free port, from seeded state in memory: COMMAND is the traffic
 *                    (UNDERSTUDY_URL in its environment), and the drill reports when it exits.
 *
 * Both modes drive the server through the admin API, so they behave alike. The exit code is the expectations'
 * verdict (0 all hold, 1 one does not); COMMAND's own exit code is printed but decides nothing, because a test
 * suite that fails under chaos is what a drill is for. Anything that stops the drill from judging (a bad flag,
 * a profile with problems, an unreachable server) is a DrillError: exit 2.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { loadProfile, type CompiledProfile } from '../chaos/profile.js';
import { formatProblem, SourceError } from '../config/yaml-source.js';
import { WORKSPACE_NAME } from '../engine/workspace.js';
import { clockIntervals } from '../report/outages.js';
import type { Report } from '../report/types.js';
import { VERSION } from '../version.js';
import { AdminApiError, AdminClient, type ChaosState } from './admin-client.js';
import { readCalls, type CallBins } from './calls.js';
import { DrillError } from './drill-error.js';
import { startEmbedded, type Embedded } from './embedded.js';
import { baselineOf, follow } from './follow.js';
import { ProgressDisplay, type ProgressOutput } from './progress.js';
import { writeReportFiles } from './report-files.js';
import { renderSummary } from './summary.js';
import type { PhaseWindow } from './timeline-plot.js';
import { formatMs, parseStartAt, timelineEndMs, type StartAt } from './timeline.js';

export interface DrillOptions {
  /** the profile: a file, or a built-in profile's name */
  file: string;
  url?: string;
  workspace?: string;
  adminToken?: string;
  /** directory for report.json, junit.xml, report.html */
  report?: string;
  startAt?: string;
  /** embedded mode only */
  seed?: number;
  dataDir?: string;
  /** the words after `--`: the traffic, in embedded mode */
  command: string[];
}

export interface DrillIo {
  stdout: { write(text: string): unknown };
  stderr: ProgressOutput;
  /** SIGINT/SIGTERM subscription; the CLI passes process */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>;
}

/** Refuses flag combinations that cannot mean anything, before anything starts. */
function checkUsage(o: DrillOptions): void {
  const problems: string[] = [];
  const embedded = o.command.length > 0;
  if (o.url === undefined && !embedded) problems.push('drill needs a server: --url URL for a running understudy, or -- COMMAND... to run COMMAND against an embedded one');
  if (o.url !== undefined && embedded) problems.push(`drill takes --url or -- COMMAND, not both (--url ${o.url} drives a running server; COMMAND runs against an embedded one)`);
  if (o.url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(o.url);
    } catch {
      // reported below
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol)) problems.push(`--url ${o.url} is not an http:// or https:// URL`);
    else if (parsed.pathname !== '/' && parsed.pathname !== '') problems.push(`--url ${o.url}: give the server's root (${parsed.origin}); name a workspace with --workspace`);
    if (o.seed !== undefined) problems.push('--seed applies to the embedded server (-- COMMAND); a running server keeps its own seed');
    if (o.dataDir !== undefined) problems.push('--data-dir applies to the embedded server (-- COMMAND); a running server keeps its own');
  } else if (o.adminToken !== undefined) problems.push('--admin-token applies to --url (the embedded server listens on 127.0.0.1 without one)');
  if (o.workspace !== undefined && !WORKSPACE_NAME.test(o.workspace)) problems.push(`--workspace ${o.workspace} is not a workspace name (1 to 40 letters, digits and -)`);
  if (problems.length) throw new DrillError(problems);
}

/**
 * The profile's structure, read here before anything starts. Its match values (systems, operations, routes) are
 * checked by the server that runs it, against what that server mounts: the embedded one refuses them as it
 * starts, before COMMAND runs, and a running one (--url, which may mount other contracts) answers the PUT with
 * the same problems; both name lines in FILE.
 */
function readProfile(o: DrillOptions): CompiledProfile {
  try {
    return loadProfile(o.file);
  } catch (err) {
    if (err instanceof SourceError) throw new DrillError(err.problems.map(formatProblem));
    throw err;
  }
}

/** PUT /__admin/chaos, with a refused profile's problems named at their lines in FILE */
async function activate(client: AdminClient, profile: CompiledProfile, file: string): Promise<ChaosState> {
  try {
    return await client.putProfile(profile.text);
  } catch (err) {
    if (err instanceof AdminApiError && err.status === 400 && Array.isArray(err.problem.errors)) {
      throw new DrillError(err.problem.errors.map((e) => `${file}:${e.line ?? 1}:${e.column ?? 1}: ${e.path ? e.path + ': ' : ''}${e.message ?? ''}`));
    }
    throw err;
  }
}

async function moveTimeline(client: AdminClient, startAt: StartAt, written: string): Promise<ChaosState> {
  try {
    return await client.moveTimeline(startAt.body);
  } catch (err) {
    if (err instanceof AdminApiError && err.status === 404) throw new DrillError([`--start-at ${written}: the server cannot move a timeline (no POST /__admin/chaos/timeline): is it an older understudy?`]);
    if (err instanceof AdminApiError) throw new DrillError([`--start-at ${written}: ${err.problem.detail ?? err.message}`]);
    throw err;
  }
}

async function fetchReport(client: AdminClient, since: number, until: number): Promise<Report> {
  try {
    return await client.report<Report>({ since: new Date(since).toISOString(), until: new Date(until).toISOString() });
  } catch (err) {
    if (err instanceof AdminApiError && err.status === 404) throw new DrillError([`the server has no report card (GET /__admin/report answered 404): is it an older understudy?`]);
    throw err;
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function describeExit(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

/** Runs COMMAND (no shell: the words as given) with UNDERSTUDY_URL, resolving when it exits. */
function runCommand(words: string[], url: string): { exited: Promise<Exit>; kill(signal: NodeJS.Signals): void } {
  const child = spawn(words[0], words.slice(1), { stdio: 'inherit', env: { ...process.env, UNDERSTUDY_URL: url } });
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'not found (COMMAND runs without a shell: use sh -c "..." for one)' : err.message;
      reject(new DrillError([`cannot run ${words[0]}: ${why}`]));
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { exited, kill: (signal) => child.kill(signal) };
}

export async function runDrill(o: DrillOptions, io: DrillIo): Promise<number> {
  checkUsage(o);
  const profile = readProfile(o);
  const startAt = o.startAt === undefined ? undefined : parseStartAt(o.startAt, profile);
  const embeddedMode = o.command.length > 0;

  let embedded: Embedded | undefined;
  const stop = new AbortController();
  let onCommandSignal: ((signal: NodeJS.Signals) => void) | undefined;
  let interrupted = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted++;
    if (interrupted > 1) {
      // a second interruption means "now": no report, and no COMMAND left running behind us
      io.stderr.write(`\nunderstudy drill: ${signal} again: stopping without a report\n`);
      onCommandSignal?.('SIGKILL');
      process.exit(130);
    }
    if (onCommandSignal) onCommandSignal(signal);
    else io.stderr.write(`\nunderstudy drill: ${signal}: stopping the drill and fetching the report\n`);
    stop.abort();
  };
  io.signals?.on('SIGINT', onSignal);
  io.signals?.on('SIGTERM', onSignal);
  try {
    if (embeddedMode) {
      try {
        embedded = await startEmbedded({ profile: o.file, seed: o.seed, dataDir: o.dataDir });
      } catch (err) {
        if (err instanceof SourceError) throw new DrillError(err.problems.map(formatProblem));
        throw new DrillError([`cannot start the embedded server: ${err instanceof Error ? err.message : err}`]);
      }
    }
    const client = new AdminClient({ url: embedded?.url ?? o.url!, workspace: o.workspace, adminToken: o.adminToken });
    const before = await client.workspace();
    const activated = await activate(client, profile, o.file);
    // the drill's clock: the server's time of activation, then this process's monotonic clock (a deployed
    // server's wall clock may differ from ours; intervals do not)
    const localStart = performance.now();
    const since = Date.parse(activated.activatedAt);
    const serverNow = () => since + (performance.now() - localStart);
    let origin = since;
    if (startAt) {
      const moved = await moveTimeline(client, startAt, o.startAt!);
      origin = serverNow() - moved.elapsedMs;
    }
    const baseline = baselineOf(before, activated.activatedAt);
    const endMs = timelineEndMs(profile);
    const phases = profile.phases.length;
    const target = embedded ? 'embedded server' : client.trafficUrl;
    io.stderr.write(`understudy drill: ${profile.name} active on ${client.trafficUrl}${startAt ? ` from ${o.startAt} on its timeline` : ''}\n`);

    let command: string | undefined;
    if (embeddedMode) {
      const run = runCommand(o.command, client.trafficUrl);
      onCommandSignal = (signal) => run.kill(signal);
      // phase changes only: COMMAND shares the terminal, a redrawn line would tear its output
      const display = new ProgressDisplay(io.stderr, { redraw: false });
      const followed = follow({ client, baseline, display, phases, stop: stop.signal });
      let exit: Exit;
      try {
        exit = await run.exited;
      } finally {
        stop.abort();
        await followed;
      }
      command = `${o.command.join(' ')}: ${describeExit(exit)}`;
      const at = serverNow() - origin;
      io.stderr.write(`understudy drill: ${o.command.join(' ')} ended with ${describeExit(exit)} after ${formatMs(serverNow() - since)} (the expectations decide the drill's exit code)\n`);
      if (endMs !== undefined && at < endMs) io.stderr.write(`understudy drill: note: the command ended at ${formatMs(at)} on the timeline, before its end at ${formatMs(endMs)}: later phases did not run\n`);
    } else {
      const display = new ProgressDisplay(io.stderr, { redraw: io.stderr.isTTY === true, summaryEveryMs: 10_000 });
      if (endMs === undefined) io.stderr.write(`understudy drill: ${profile.name}'s timeline has no end: following until interrupted (Ctrl-C, SIGTERM), then reporting\n`);
      await follow({ client, baseline, display, phases, endMs, stop: stop.signal, estimate: () => serverNow() - origin });
    }

    const until = serverNow();
    const report = await fetchReport(client, since, until);
    io.stdout.write(renderSummary(report, profile.name));
    if (o.report !== undefined) {
      let calls: CallBins | undefined;
      try {
        calls = await readCalls(client, since, until);
      } catch (err) {
        io.stderr.write(`understudy drill: warning: no timeline in report.html: ${err instanceof Error ? err.message : err}\n`);
      }
      const windows = await phaseWindows(client, profile, origin, since, until);
      const files = writeReportFiles(
        o.report,
        report,
        { profile: profile.name, command },
        { profile: { name: profile.name, description: profile.description }, calls, phases: windows, command, target, version: VERSION },
      );
      io.stdout.write(`report written: ${files.json}, ${files.junit}, ${files.html}\n`);
    }
    return report.passed ? 0 : 1;
  } finally {
    io.signals?.off('SIGINT', onSignal);
    io.signals?.off('SIGTERM', onSignal);
    await embedded?.close();
  }
}

/**
 * Where each phase ran on the clock, for the plot: through the timeline's segments as the server kept them, so a
 * timeline the traffic itself moved (POST /__admin/chaos/timeline) is drawn where it was; from the drill's own
 * origin when the server does not say.
 */
async function phaseWindows(client: AdminClient, profile: CompiledProfile, origin: number, since: number, until: number): Promise<PhaseWindow[]> {
  const faulty = (p: CompiledProfile['phases'][number]) => p.rules.length > 0;
  let segments: Array<{ at: number; elapsedMs: number; cause: 'activated' | 'restarted' | 'jump' }> = [];
  try {
    segments = ((await client.chaos()).timeline ?? []).map((s) => ({ at: Date.parse(s.at), elapsedMs: s.elapsedMs, cause: s.cause }));
  } catch {
    segments = [];
  }
  if (segments.length === 0 || segments.some((s) => Number.isNaN(s.at))) {
    return profile.phases.map((p) => ({ name: p.name, start: origin + p.startMs, end: origin + (Number.isFinite(p.endMs) ? p.endMs : until - origin), faulty: faulty(p) }));
  }
  return profile.phases.flatMap((p) =>
    clockIntervals(segments, p.startMs, p.endMs, until)
      .map(([start, end]) => ({ name: p.name, start: Math.max(start, since), end: Math.min(end, until), faulty: faulty(p) }))
      .filter((w) => w.start < w.end),
  );
}
