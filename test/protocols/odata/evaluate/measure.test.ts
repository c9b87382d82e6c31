/**
 * Measurements against the targets (issue #12, Performance), logged, never asserted (timings on shared CI
 * machines are not a test): on the default-size ERP state (1,000,000 InvoiceLines),
 *   - an unindexed `contains(Description,'x')` over all rows, with $count (target ≤ 1.5 s);
 *   - walking 100,000 InvoiceLines in key order by next tokens, page size 1,000 (target ≥ 50,000 rows/s);
 *   - a general-path page: `$orderby=Description desc` with a filter over all rows (no target; for reference).
 * Skipped unless UNDERSTUDY_MEASURE=1:  UNDERSTUDY_MEASURE=1 npx vitest run test/protocols/odata/evaluate/measure.test.ts
 */
import { describe, expect, test } from 'vitest';
import { compileFilter, compileOrderBy, decodeSkipToken, page, requestDigest } from '../../../../src/protocols/odata/evaluate/index.js';
import { parseFilter, parseOrderBy } from '../../../../src/protocols/odata/query/index.js';
import { ErpState } from '../../../../src/systems/erp/state.js';
import { ManualClock } from '../../../../src/util/clock.js';
import { rowSource, START, typeOf } from './erp-sources.js';

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

describe.skipIf(process.env.UNDERSTUDY_MEASURE !== '1')('measurements on 1,000,000 InvoiceLines (logged, not asserted)', () => {
  test('contains() over all rows; key-ordered paging of 100,000 rows', { timeout: 300_000 }, () => {
    let t0 = process.hrtime.bigint();
    const state = new ErpState({ seed: 42, clock: new ManualClock(START), customers: 500, invoices: 10_000, invoiceLines: 1_000_000 });
    const source = rowSource(state, 'InvoiceLines');
    state.invoiceLineAt(0);
    const build = ms(t0);
    const type = typeOf('InvoiceLines');
    const keyOrder = compileOrderBy(type, undefined);
    const log: string[] = [`state built in ${build.toFixed(0)} ms`];

    // reading rows alone (the floor under every scan)
    t0 = process.hrtime.bigint();
    let n = 0;
    for (const _ of source) n++;
    log.push(`reading ${n} rows (no filter): ${ms(t0).toFixed(0)} ms`);

    for (const needle of ['x', 'Bolt']) {
      const filter = compileFilter(type, parseFilter(`contains(Description,'${needle}')`, 'v4'));
      for (let run = 0; run < 3; run++) {
        t0 = process.hrtime.bigint();
        const p = page(source, { filter, order: keyOrder, pageSize: 1000, count: true });
        log.push(`contains(Description,'${needle}') over 1,000,000 rows, first page + $count=${p.count}: ${ms(t0).toFixed(0)} ms (run ${run + 1})`);
      }
    }

    const digest = requestDigest({ entitySet: 'InvoiceLines' });
    for (let run = 0; run < 3; run++) {
      t0 = process.hrtime.bigint();
      let token: string | undefined;
      let rows = 0;
      do {
        const after = token === undefined ? undefined : decodeSkipToken(token, digest, keyOrder);
        const p = page(source, { order: keyOrder, pageSize: 1000, after, digest });
        rows += p.rows.length;
        token = p.nextToken;
      } while (token !== undefined && rows < 100_000);
      const t = ms(t0);
      log.push(`walking ${rows} rows by next tokens (page 1,000, key order): ${t.toFixed(0)} ms = ${Math.round((rows / t) * 1000)} rows/s (run ${run + 1})`);
    }
    // with $count=true on every page (Salesforce 4.01 always asks): no filter, so the count is the source's size
    t0 = process.hrtime.bigint();
    let token: string | undefined;
    let rows = 0;
    do {
      const after = token === undefined ? undefined : decodeSkipToken(token, digest, keyOrder);
      const p = page(source, { order: keyOrder, pageSize: 1000, after, digest, count: true });
      rows += p.rows.length;
      token = p.nextToken;
    } while (token !== undefined && rows < 100_000);
    log.push(`the same walk with $count=true: ${Math.round((rows / ms(t0)) * 1000)} rows/s`);

    const byDescription = compileOrderBy(type, parseOrderBy('Description desc'));
    const filter = compileFilter(type, parseFilter('Quantity gt 12', 'v4'));
    t0 = process.hrtime.bigint();
    const p = page(source, { filter, order: byDescription, pageSize: 1000, count: true });
    log.push(`general path: Quantity gt 12, $orderby=Description desc, first page of 1,000 + $count=${p.count}: ${ms(t0).toFixed(0)} ms`);
    const mem = process.memoryUsage();
    log.push(`RSS ${(mem.rss / 2 ** 20).toFixed(0)} MB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MB (before the pre-built rows below)`);
    // the evaluator alone: the same scan over rows built beforehand (what remains once rows are cheap to read;
    // ErpState.invoiceLineAt's object spread costs ~2.4 µs of the ~3.4 µs per row measured above)
    const built = Array.from(source);
    const contains = compileFilter(type, parseFilter("contains(Description,'x')", 'v4'));
    for (let run = 0; run < 3; run++) {
      t0 = process.hrtime.bigint();
      const q = page(built, { filter: contains, order: keyOrder, pageSize: 1000, count: true });
      log.push(`evaluator alone: contains(Description,'x') over 1,000,000 pre-built rows + $count=${q.count}: ${ms(t0).toFixed(0)} ms (run ${run + 1})`);
    }
    t0 = process.hrtime.bigint();
    const q = page(built, { filter, order: byDescription, pageSize: 1000, count: true });
    log.push(`evaluator alone: general path (Quantity gt 12, Description desc, top-1,000 heap) over pre-built rows: ${ms(t0).toFixed(0)} ms (${q.rows.length} rows)`);
    console.log(log.join('\n'));
    expect(rows).toBe(100_000);
  });
});
