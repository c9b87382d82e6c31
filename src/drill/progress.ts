/**
 * The drill's live progress on stderr: where the timeline is and what the traffic met so far. In a terminal one
 * line is redrawn in place; elsewhere (CI logs, a pipe) a redraw would leave a smear of carriage returns, so a line
 * is printed when a phase begins and, optionally, a summary every so often. With a COMMAND sharing the terminal
 * (embedded mode) only phase changes are printed, never a redraw that its output would tear.
 */
import { formatMs } from './timeline.js';

export interface ProgressSample {
  profile: string;
  phase: string | null;
  phaseIndex: number | null;
  phases: number;
  elapsedMs: number;
  /** where the followed timeline ends (ms), undefined when open-ended */
  endMs?: number;
  requests: number;
  /** faults injected by the profile's rules */
  faults: number;
  /** replies the client could not use: 4xx, 5xx and exchanges that ended with no response */
  clientErrors: { '4xx': number; '5xx': number; none: number };
}

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** redraw one line (a TTY with nothing else writing to it) or print lines */
  redraw: boolean;
  /** in line mode, a summary line this often (none: phase changes only) */
  summaryEveryMs?: number;
}

const count = new Intl.NumberFormat('en-US');

function where(s: ProgressSample): string {
  if (s.phase === null) return s.phases ? 'after the timeline' : 'no timeline';
  return `phase ${s.phase} (${s.phaseIndex! + 1}/${s.phases})`;
}

/** "12 requests, 3 faults, 4 client errors (4xx 1, 5xx 3, no response 0)" */
export function formatCounts(s: ProgressSample): string {
  const e = s.clientErrors;
  const errors = e['4xx'] + e['5xx'] + e.none;
  const detail = errors ? ` (4xx ${count.format(e['4xx'])}, 5xx ${count.format(e['5xx'])}, no response ${count.format(e.none)})` : '';
  return `${count.format(s.requests)} requests, ${count.format(s.faults)} faults, ${count.format(errors)} client errors${detail}`;
}

/** "phase down (2/3), 1m12s / 7m; 12 requests, 3 faults, 4 client errors (...)" */
export function formatSample(s: ProgressSample): string {
  const clock = s.endMs === undefined ? formatMs(s.elapsedMs) : `${formatMs(s.elapsedMs)} / ${formatMs(s.endMs)}`;
  return `${where(s)}, ${clock}; ${formatCounts(s)}`;
}

export class ProgressDisplay {
  private lastPhase: string | null | undefined = undefined;
  private lastSummaryAt = 0;
  private drawn = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly options: ProgressOptions,
  ) {}

  update(sample: ProgressSample): void {
    const line = formatSample(sample);
    if (this.options.redraw) {
      const width = this.out.columns ?? 120;
      // clear the line, then draw within the terminal's width so a long line never wraps and leaves a copy behind
      this.out.write(`\r\x1b[2K${line.length >= width ? line.slice(0, width - 2) + '…' : line}`);
      this.drawn = true;
      return;
    }
    // a profile without phases has no phase to announce: only the periodic summary then
    if (sample.phase !== this.lastPhase && sample.phases > 0) {
      this.lastPhase = sample.phase;
      this.lastSummaryAt = sample.elapsedMs;
      const what = sample.phase === null ? 'the timeline has run' : `${where(sample)} began`;
      this.out.write(`understudy drill: ${what} at ${formatMs(sample.elapsedMs)}; ${formatCounts(sample)} so far\n`);
      return;
    }
    const every = this.options.summaryEveryMs;
    if (every !== undefined && sample.elapsedMs - this.lastSummaryAt >= every) {
      this.lastSummaryAt = sample.elapsedMs;
      this.out.write(`understudy drill: ${formatSample(sample)}\n`);
    }
  }

  /** a message between updates (a lost poll, an interruption), on a line of its own */
  note(message: string): void {
    this.finish();
    this.out.write(`understudy drill: ${message}\n`);
  }

  /** ends the redrawn line so what follows starts on a fresh one */
  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
