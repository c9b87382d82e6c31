/**
 * The background simulation (PRODUCT.md §6: "changes stock at a configurable rate"): stock moving in the
 * warehouse while nobody calls the API, so that polling integrations and change-feed syncs see fresh changes.
 *
 * There is no timer. Change k (from 0) falls due at startedAt + (k + 1) / rate seconds and is a pure function of
 * (seed, k); before a request is handled the state applies every change due by then, stamped with its due time.
 * Idle workspaces therefore cost nothing, and tests drive the simulation by advancing a ManualClock.
 *
 * A workspace left idle for long would owe millions of changes; applying them would stall the event loop, so at
 * most MAX_CHANGES_PER_CATCH_UP are applied at once and older due changes are skipped (the skipped ones are
 * those furthest in the past, whose effect later changes would have blurred anyway). Which ones depends on when
 * the catch-up ran (a read in the middle of the idle changes it), so the state records such a catch-up
 * (StateOptions.record) and a restart replays it at the same moment.
 */
import { randomInt, seededRandom } from '../../util/seeded-random.js';
import { MAX_ON_HAND, type WmsState } from './state.js';

const MAX_CHANGES_PER_CATCH_UP = 5_000;
/** A simulated movement: picks and receipts of a few units. */
const MIN_DELTA = -20;
const MAX_DELTA = 30;

/** The simulation's progress as plain data (snapshot.ts). */
export interface StockSimulationData {
  changesPerSecond: number;
  startedAt: number;
  applied: number;
}

export class StockSimulation {
  /** changes 0..applied-1 are done (or skipped) */
  private applied = 0;

  constructor(
    private readonly state: WmsState,
    private readonly changesPerSecond: number,
    private readonly startedAt: number,
  ) {}

  toData(): StockSimulationData {
    return { changesPerSecond: this.changesPerSecond, startedAt: this.startedAt, applied: this.applied };
  }

  /** The simulation toData() described, for `state`; throws when the data contradicts itself. */
  static fromData(state: WmsState, data: StockSimulationData): StockSimulation {
    const { changesPerSecond, startedAt, applied } = data;
    const valid =
      changesPerSecond > 0 && Number.isFinite(changesPerSecond) && Number.isFinite(startedAt) && Number.isSafeInteger(applied) && applied >= 0;
    if (!valid) {
      throw new Error(`stock simulation: bad progress (rate ${changesPerSecond}, started ${startedAt}, applied ${applied})`);
    }
    const simulation = new StockSimulation(state, changesPerSecond, startedAt);
    simulation.applied = applied;
    return simulation;
  }

  /** Applies the changes due by `now`; true when it had to skip some (more than MAX_CHANGES_PER_CATCH_UP were due). */
  catchUp(now: number): boolean {
    const due = Math.floor(((now - this.startedAt) * this.changesPerSecond) / 1000);
    if (due <= this.applied) return false;
    const first = Math.max(this.applied, due - MAX_CHANGES_PER_CATCH_UP);
    for (let k = first; k < due; k++) this.apply(k);
    const skipped = first > this.applied;
    this.applied = due;
    return skipped;
  }

  private apply(k: number): void {
    const state = this.state;
    const next = seededRandom(state.seed, 'simulation', k);
    const skuIndex = Math.floor(next() * state.skuCount);
    const cell = state.cell(skuIndex, Math.floor(next() * state.warehouseCount));
    const delta = randomInt(next, MIN_DELTA, MAX_DELTA);
    // stock never drops below what reservations hold, nor below zero
    const onHand = Math.min(MAX_ON_HAND, Math.max(state.reserved[cell], state.onHand[cell] + delta));
    if (onHand === state.onHand[cell]) return;
    state.onHand[cell] = onHand;
    state.touchSku(skuIndex, state.stamp(Math.floor(this.startedAt + ((k + 1) * 1000) / this.changesPerSecond)));
  }
}
