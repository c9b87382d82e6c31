/**
 * The report page's timeline: an inline SVG with a row per client, each a stacked histogram of its calls by
 * outcome (2xx/3xx, 4xx, 5xx, no response) per time bucket, the profile's phases along the top, outage windows
 * shaded across every row, and alerts as vertical markers. One <path> per outcome and client, so the size of the
 * drawing depends on the number of buckets and clients, never on the number of calls.
 */
import type { AlertReceived, OutageWindow } from '../report/types.js';
import { OUTCOMES, type CallBins, type Outcome } from './calls.js';
import { escapeHtml as esc } from './html-escape.js';
import { formatMs } from './timeline.js';

export interface PhaseWindow {
  name: string;
  /** ms since the epoch */
  start: number;
  end: number;
  /** the phase has rules of its own (faults or policies) */
  faulty: boolean;
}

export interface PlotInput {
  since: number;
  until: number;
  calls: CallBins;
  outages: OutageWindow[];
  alerts: AlertReceived[];
  phases: PhaseWindow[];
}

export const OUTCOME_COLOURS: Record<Outcome, string> = { ok: '#2f9e5f', '4xx': '#e3a21a', '5xx': '#d9473f', none: '#6e56cf' };
export const OUTCOME_LABELS: Record<Outcome, string> = { ok: '2xx/3xx', '4xx': '4xx', '5xx': '5xx', none: 'no response' };

/** the most client rows drawn (in the order given); the rest are named in a note */
export const MAX_ROWS = 24;

const WIDTH = 1160;
const LEFT = 200;
const RIGHT = 16;
const PLOT = WIDTH - LEFT - RIGHT;
const TOP = 64;
const ROW = 58;
const GAP = 14;
const TICK_STEPS = [100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000];

/** a coordinate with at most one decimal: what the eye can tell apart, in as few bytes as possible */
function n(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

function clip(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

export function renderTimelinePlot(input: PlotInput): string {
  const { since, until, calls } = input;
  const span = Math.max(1, until - since);
  const x = (t: number) => LEFT + (Math.min(Math.max(t, since), until) - since) / span * PLOT;
  const rows = calls.clients.slice(0, MAX_ROWS);
  const rowsHeight = Math.max(1, rows.length) * (ROW + GAP);
  const height = TOP + rowsHeight + 8;
  const bottom = TOP + rowsHeight - GAP;
  const out: string[] = [];
  out.push(`<svg class="plot" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Calls per client over time by outcome, with outage windows and alerts">`);

  // row backgrounds first: the outage shading and phase boundaries go over them, the bars over those
  rows.forEach((_, i) => out.push(`<rect x="${LEFT}" y="${TOP + i * (ROW + GAP)}" width="${PLOT}" height="${ROW}" class="row"/>`));

  // phases along the top, faulty ones tinted
  input.phases.forEach((p, i) => {
    const x0 = x(p.start);
    const x1 = x(p.end);
    if (x1 - x0 < 0.5) return;
    const fill = p.faulty ? '#fbe6c2' : i % 2 ? '#eef0f3' : '#f6f7f9';
    out.push(`<g><title>phase ${esc(p.name)}: ${formatMs(p.start - since)} to ${formatMs(p.end - since)}</title><rect x="${n(x0)}" y="0" width="${n(x1 - x0)}" height="22" fill="${fill}" stroke="#fff"/>`);
    // a name only where it fits (about 6.5 px a character at this size)
    const room = Math.floor((x1 - x0 - 8) / 6.5);
    if (room >= 3) out.push(`<text x="${n(x0 + 4)}" y="15" class="phase">${esc(clip(p.name, room))}</text>`);
    out.push('</g>');
    if (i > 0) out.push(`<line x1="${n(x0)}" x2="${n(x0)}" y1="22" y2="${bottom}" class="boundary"/>`);
  });

  // outage windows: shaded across every row
  for (const o of input.outages) {
    const x0 = x(Date.parse(o.start));
    const x1 = x(o.end === null ? until : Date.parse(o.end));
    if (!(x1 > x0)) continue;
    const what = `outage ${o.rule}${o.phase ? ` (phase ${o.phase})` : ''}: ${formatMs(Date.parse(o.start) - since)} to ${o.end === null ? 'the end (still open)' : formatMs(Date.parse(o.end) - since)}`;
    out.push(`<rect x="${n(x0)}" y="26" width="${n(x1 - x0)}" height="${bottom - 26}" class="outage"><title>${esc(what)}</title></rect>`);
    if (x1 - x0 > 60) out.push(`<text x="${n(x1 - 4)}" y="37" class="outage-label">outage</text>`);
  }

  // time axis
  const step = TICK_STEPS.find((s) => span / s <= 10) ?? Math.ceil(span / 10 / 3_600_000) * 3_600_000;
  for (let t = 0; t <= span; t += step) {
    const tx = LEFT + (t / span) * PLOT;
    out.push(`<line x1="${n(tx)}" x2="${n(tx)}" y1="40" y2="${bottom}" class="tick"/><text x="${n(tx)}" y="52" class="axis">${formatMs(t)}</text>`);
  }

  // a row per client
  rows.forEach((c, i) => {
    const top = TOP + i * (ROW + GAP);
    const base = top + ROW;
    const peak = Math.max(1, ...c.counts.ok.map((_, b) => OUTCOMES.reduce((s, o) => s + c.counts[o][b], 0)));
    const bucketPx = (calls.bucketMs / span) * PLOT;
    const barPx = Math.max(0.5, bucketPx > 3 ? bucketPx - 1 : bucketPx);
    out.push(`<text x="${LEFT - 10}" y="${top + 24}" class="client"><title>${esc(c.client)}</title>${esc(clip(c.client, 26))}</text>`);
    out.push(`<text x="${LEFT - 10}" y="${top + 42}" class="count">${c.total.toLocaleString('en-US')} call${c.total === 1 ? '' : 's'}, peak ${peak.toLocaleString('en-US')} per ${formatMs(calls.bucketMs)}</text>`);
    const stacked = new Array<number>(calls.buckets).fill(0);
    for (const outcome of OUTCOMES) {
      let d = '';
      c.counts[outcome].forEach((count, b) => {
        if (count === 0) return;
        const h = (count / peak) * (ROW - 4);
        const y = base - stacked[b] - h;
        stacked[b] += h;
        d += `M${n(LEFT + b * bucketPx)} ${n(y)}h${n(barPx)}v${n(h)}h-${n(barPx)}z`;
      });
      if (d) out.push(`<path d="${d}" fill="${OUTCOME_COLOURS[outcome]}"><title>${esc(c.client)}: ${OUTCOME_LABELS[outcome]}</title></path>`);
    }
  });
  if (rows.length === 0) out.push(`<text x="${LEFT + PLOT / 2}" y="${TOP + 34}" class="empty">No calls in the drill's window.</text>`);

  // alerts on top of everything
  for (const a of input.alerts) {
    const ax = x(Date.parse(a.at));
    out.push(
      `<g class="alert"><title>alert #${a.id} via ${esc(a.sink)} at ${formatMs(Date.parse(a.at) - since)}</title><line x1="${n(ax)}" x2="${n(ax)}" y1="26" y2="${bottom}"/><path d="M${n(ax - 6)} 26h12l-6 9z"/></g>`,
    );
  }
  out.push('</svg>');
  return out.join('\n');
}
