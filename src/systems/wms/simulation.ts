/**
 * The background simulation (PRODUCT.md §6: "changes stock at a configurable rate"): stock moving in the
 * warehouse while nobody calls the API, so that polling integrations and change-feed syncs see fresh changes.
 *
 * There is no timer. The simulation runs in segments: a segment starts at `startedAt` (the state's start, or
 * the moment an admin changed the rate or paused, PUT /__admin/wms/simulation) and runs at one rate; its change
 * k (from 0) falls due at startedAt + (k + 1) / rate seconds and is the simulation's change offset + k, a pure
 * function of (seed, offset + k). Before a request is handled the state applies every change due by then, stamped
 * with its due time. Idle workspaces therefore cost nothing, and tests drive the simulation by advancing a
 * ManualClock.
 *
 * A new segment carries the count on (`offset`): the changes after a rate change or a pause continue the
 * sequence where it stopped instead of starting again at change 0, which would repeat the same movements of the
 * same SKUs. Before a segment ends everything due in it is applied, so changing the rate never drops or
 * reschedules a change that was already due at the old rate.
 *
 * A workspace left idle for long would owe millions of changes; applying them would stall the event loop, so at
 * most MAX_CHANGES_PER_CATCH_UP are applied at once and older due changes are skipped (the skipped ones are
 * those furthest in the past, whose effect later changes would have blurred anyway; they still count, so the
 * sequence goes on after them). Which ones depends on when the catch-up ran (a read in the middle of the idle
 * changes it), so the state records such a catch-up (StateOptions.record) and a restart replays it at the same
 * moment.
 */
import { CommandError } from '../../engine/system.js';
import { randomInt, seededRandom } from '../../util/seeded-random.js';
import { CHANGE_RATE_PATTERN, ChangeRateError, MAX_CHANGES_PER_SECOND, parseChangeRate, type ChangeRate } from './change-rate.js';
import { MAX_ON_HAND, type WmsState } from './state.js';

const MAX_CHANGES_PER_CATCH_UP = 5_000;
/** A simulated movement: picks and receipts of a few units. */
const MIN_DELTA = -20;
const MAX_DELTA = 30;

/** The simulation's progress as plain data (snapshot.ts). */
export interface StockSimulationData {
  /** the current segment's rate (0: no changes) */
  changesPerSecond: number;
  /** that rate as the admin (or the configuration) gave it, for GET /__admin/wms/simulation */
  rate: string;
  /** paused by an admin: no changes, whatever the rate */
  paused: boolean;
  /** when the current segment started */
  startedAt: number;
  /** the current segment's changes 0..applied-1 are done (or skipped) */
  applied: number;
  /** how many changes the segments before this one made: the current segment's change k is change offset + k */
  offset: number;
}

/** What GET and PUT /__admin/wms/simulation show. */
export interface SimulationSettings {
  running: boolean;
  rate: string;
}

/** A PUT /__admin/wms/simulation, checked. */
export interface SimulationChange {
  rate?: ChangeRate;
  running?: boolean;
}

const FIELDS = ['rate', 'running'];

/**
 * The command's input, checked before anything changes: `{ rate?: "N/s|m|h", running?: boolean }`, at least one.
 * Throws CommandError naming the field (the admin route answers 400 with it).
 */
export function parseSimulationChange(input: unknown): SimulationChange {
  const shape = 'send {"rate": "5/s", "running": true} (either field, or both)';
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new CommandError(`The body must be a JSON object: ${shape}.`);
  const unknown = Object.keys(input).filter((key) => !FIELDS.includes(key));
  if (unknown.length > 0) {
    throw new CommandError(`Unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: ${shape}.`);
  }
  const { rate, running } = input as { rate?: unknown; running?: unknown };
  if (rate === undefined && running === undefined) throw new CommandError(`Nothing to change: ${shape}.`);
  const change: SimulationChange = {};
  if (rate !== undefined) {
    if (typeof rate !== 'string') throw new CommandError(`rate must be a string such as "5/s", "120/m" or "0/s", not ${JSON.stringify(rate)}.`);
    try {
      change.rate = parseChangeRate(rate);
    } catch (err) {
      if (!(err instanceof ChangeRateError)) throw err;
      throw new CommandError(`rate ${JSON.stringify(rate)} ${err.message}.`);
    }
  }
  if (running !== undefined) {
    if (typeof running !== 'boolean') throw new CommandError(`running must be true or false, not ${JSON.stringify(running)}.`);
    change.running = running;
  }
  return change;
}

export class StockSimulation {
  private changesPerSecond: number;
  private rate: string;
  private paused: boolean;
  private startedAt: number;
  /** the current segment's changes 0..applied-1 are done (or skipped) */
  private applied = 0;
  private offset = 0;

  constructor(
    private readonly state: WmsState,
    rate: ChangeRate,
    startedAt: number,
    paused = false,
  ) {
    this.changesPerSecond = rate.perSecond;
    this.rate = rate.text;
    this.startedAt = startedAt;
    this.paused = paused;
  }

  toData(): StockSimulationData {
    const { changesPerSecond, rate, paused, startedAt, applied, offset } = this;
    return { changesPerSecond, rate, paused, startedAt, applied, offset };
  }

  /** The simulation toData() described, for `state`; throws when the data contradicts itself. */
  static fromData(state: WmsState, data: StockSimulationData): StockSimulation {
    const { changesPerSecond, rate, paused, startedAt, applied, offset } = data;
    const valid =
      typeof changesPerSecond === 'number' &&
      changesPerSecond >= 0 &&
      changesPerSecond <= MAX_CHANGES_PER_SECOND &&
      typeof rate === 'string' &&
      CHANGE_RATE_PATTERN.test(rate) &&
      typeof paused === 'boolean' &&
      Number.isFinite(startedAt) &&
      Number.isSafeInteger(applied) &&
      applied >= 0 &&
      Number.isSafeInteger(offset) &&
      offset >= 0;
    if (!valid) {
      throw new Error(
        `stock simulation: bad progress (rate ${changesPerSecond} "${rate}", paused ${paused}, started ${startedAt}, applied ${applied}, offset ${offset})`,
      );
    }
    const simulation = new StockSimulation(state, { perSecond: changesPerSecond, text: rate }, startedAt, paused);
    simulation.applied = applied;
    simulation.offset = offset;
    return simulation;
  }

  /** Changes per second now: 0 while paused or at rate 0. */
  get activeRate(): number {
    return this.paused ? 0 : this.changesPerSecond;
  }

  settings(): SimulationSettings {
    return { running: this.activeRate > 0, rate: this.rate };
  }

  /** Throws CommandError when the change cannot be made: asked to run at rate 0. */
  check(change: SimulationChange): void {
    const perSecond = change.rate?.perSecond ?? this.changesPerSecond;
    if (change.running === true && perSecond === 0) {
      throw new CommandError(`The rate is ${change.rate?.text ?? this.rate}, so the simulation cannot run: send a rate too, such as {"rate": "5/s", "running": true}.`);
    }
  }

  /**
   * Takes the admin's change (check() passed) at `now`. The state must have applied everything due by `now`
   * first (WmsState.catchUp, which also interleaves the expiries): a new rate or a pause then starts a new
   * segment at `now` that continues the sequence of changes.
   */
  reconfigure(change: SimulationChange, now: number): void {
    const perSecond = change.rate?.perSecond ?? this.changesPerSecond;
    const paused = change.running === undefined ? this.paused : !change.running;
    if (change.rate !== undefined) this.rate = change.rate.text;
    // the same pace (60/m for 1/s, or running: true while running) keeps the segment and the next change's due time
    if (perSecond === this.changesPerSecond && paused === this.paused) return;
    this.offset += this.applied;
    this.applied = 0;
    this.startedAt = now;
    this.changesPerSecond = perSecond;
    this.paused = paused;
  }

  /** Applies the changes due by `now`; true when it had to skip some (more than MAX_CHANGES_PER_CATCH_UP were due). */
  catchUp(now: number): boolean {
    const rate = this.activeRate;
    if (rate === 0) return false;
    const due = Math.floor(((now - this.startedAt) * rate) / 1000);
    if (due <= this.applied) return false;
    const first = Math.max(this.applied, due - MAX_CHANGES_PER_CATCH_UP);
    for (let k = first; k < due; k++) this.apply(k);
    const skipped = first > this.applied;
    this.applied = due;
    return skipped;
  }

  /** The current segment's change k: the simulation's change offset + k, due at startedAt + (k + 1) / rate. */
  private apply(k: number): void {
    const state = this.state;
    const next = seededRandom(state.seed, 'simulation', this.offset + k);
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
