/**
 * report.html as a person sees it: headless Chromium (Debian's package) renders a report to a PNG, and the test
 * reads the pixels: not blank, the FAILED verdict's red and the plot's outcome colours on screen. Skipped, saying
 * why, where Chromium is not installed (apt-get install chromium); the README says how to look at it by hand.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/drill/html.js';
import { OUTCOME_COLOURS } from '../../src/drill/timeline-plot.js';
import { drillCalls, sampleReport, SINCE } from './report-fixtures.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));

/** the page of a payment-outage drill that failed an expectation */
function renderSample(dir: string): string {
  const report = sampleReport();
  const phases = [
    { name: 'calm', start: SINCE, end: SINCE + 60_000, faulty: false },
    { name: 'degraded', start: SINCE + 60_000, end: SINCE + 120_000, faulty: true },
    { name: 'outage', start: SINCE + 120_000, end: SINCE + 300_000, faulty: true },
    { name: 'calm-again', start: SINCE + 300_000, end: SINCE + 420_000, faulty: false },
  ];
  const html = renderHtml({ report, profile: { name: 'payment-outage', description: 'Gateway slow, then down with 503, then calm.' }, calls: drillCalls(report), phases, command: 'npm run integration-tests: exit code 0', target: 'embedded server' });
  const file = join(dir, 'report.html');
  writeFileSync(file, html);
  return file;
}

function hex(colour: string): [number, number, number] {
  const n = parseInt(colour.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

describe.skipIf(!CHROMIUM)(`report.html in headless Chromium${CHROMIUM ? '' : ' (skipped: no chromium installed; apt-get install chromium)'}`, () => {
  it('renders a page with the verdict and the plot on it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-screenshot-'));
    const page = renderSample(dir);
    const png = join(dir, 'report.png');
    // the flags this machine needs: no sandbox as root, and no background connections to a network it lacks
    const run = spawnSync(
      CHROMIUM!,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`, `--screenshot=${png}`, '--window-size=1280,1400', '--hide-scrollbars', `file://${page}`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(existsSync(png), `chromium wrote no screenshot: ${run.stderr}`).toBe(true);
    const image = PNG.sync.read(readFileSync(png));
    expect([image.width, image.height]).toEqual([1280, 1400]);

    const seen = new Map<string, number>();
    for (let i = 0; i < image.data.length; i += 4) {
      const key = `${image.data[i]},${image.data[i + 1]},${image.data[i + 2]}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    // not blank: a rendered page has text, cards and a plot, so many colours and no single one covering it all
    expect(seen.size).toBeGreaterThan(200);
    expect(Math.max(...seen.values())).toBeLessThan(image.width * image.height * 0.9);
    const present = (colour: string, atLeast: number) => {
      const [r, g, b] = hex(colour);
      let n = 0;
      for (const [key, count] of seen) {
        const [R, G, B] = key.split(',').map(Number);
        if (Math.abs(R - r) + Math.abs(G - g) + Math.abs(B - b) <= 12) n += count;
      }
      return n >= atLeast;
    };
    expect(present('#c42b22', 500), 'the FAILED verdict').toBe(true);
    expect(present(OUTCOME_COLOURS.ok, 2000), 'the 2xx bars').toBe(true);
    expect(present(OUTCOME_COLOURS['5xx'], 500), 'the 5xx bars').toBe(true);
    expect(present(OUTCOME_COLOURS.none, 200), 'the no-response bars').toBe(true);
  });
});
