/**
 * The fake warehouse system (WMS): its contract, its seeded state and its handlers, as the REST engine mounts
 * them. Everything domain-specific lives in the files this one imports; this file only wires them together.
 */
import { fileURLToPath } from 'node:url';
import type { RestHandler, RestSystemDefinition } from '../../protocols/rest/handler.js';
import { MAX_CHANGES_PER_SECOND } from './change-rate.js';
import { adjustStock } from './adjustment-handlers.js';
import { getInventory, getItem, getWarehouse, listItems, listWarehouses, listWarehouseStock } from './catalogue-handlers.js';
import { listChanges } from './change-handlers.js';
import { wmsEvents } from './events.js';
import { exportInventory } from './export-handlers.js';
import { createReservation, getReservation, listReservations, releaseReservation } from './reservation-handlers.js';
import { createShipment, getShipment, updateShipmentStatus } from './shipment-handlers.js';
import { parseSimulationChange, type SimulationSettings } from './simulation.js';
import { restoreWms, snapshotWms } from './snapshot.js';
import { checkSkuCount, WmsState } from './state.js';
import { warehousesFor } from './warehouses.js';

export { WmsState } from './state.js';
export { WMS_EVENT_TYPES } from './events.js';
export type { SimulationSettings } from './simulation.js';

/** The admin command that changes the background simulation (PUT /__admin/wms/simulation). */
export const SIMULATION_COMMAND = 'simulation';

/** GET /__admin/wms/simulation: whether the simulation is running, and at what rate (as last given). */
export function simulationSettings(state: WmsState): SimulationSettings {
  return state.simulationSettings();
}

export interface WmsOptions {
  /** catalogue size: SKU-1 ... SKU-N (1 ... 1,000,000) */
  skus: number;
  /** how many of the built-in warehouses to use (1 ... 10) */
  warehouses: number;
  /**
   * background stock changes per second of clock time at the start (at most 1000); default 0 (none). An admin can
   * change the running rate (PUT /__admin/wms/simulation); this stays what a state starts at, and is part of the
   * configuration a stored log is replayed only against.
   */
  changeRatePerSecond?: number;
  /**
   * an active reservation without a shipment under way expires this long (ms of clock time) after its hold
   * started and gives its stock back; 0 or absent: never
   */
  reservationTtlMs?: number;
  /**
   * per workspace, most finished records kept (released/expired/fulfilled reservations, delivered/cancelled
   * shipments); beyond it the oldest finished are pruned, with their change-feed entries; absent: unbounded
   */
  maxObjects?: number;
  /** another contract file (a drifted variant in tests); default contracts/wms.openapi.yaml */
  contractFile?: string;
}

/** The same relative URL works from src/systems/wms (vitest) and dist/systems/wms (after tsc): same depth. */
const DEFAULT_CONTRACT = fileURLToPath(new URL('../../../contracts/wms.openapi.yaml', import.meta.url));

/** Handlers by operationId, exactly the contract's operations. */
export const wmsHandlers: Record<string, RestHandler<WmsState>> = {
  listItems,
  getItem,
  listWarehouses,
  getWarehouse,
  listWarehouseStock,
  getInventory,
  createReservation,
  listReservations,
  getReservation,
  releaseReservation,
  createShipment,
  getShipment,
  updateShipmentStatus,
  listChanges,
  adjustStock,
  exportInventory,
};

export function createWmsSystem(options: WmsOptions): RestSystemDefinition<WmsState> {
  const { skus, warehouses } = options;
  const changeRatePerSecond = options.changeRatePerSecond ?? 0;
  const reservationTtlMs = options.reservationTtlMs ?? 0;
  const maxObjects = options.maxObjects;
  // configuration errors surface at start-up, not on the first request of some workspace
  checkSkuCount(skus);
  warehousesFor(warehouses);
  if (!Number.isFinite(changeRatePerSecond) || changeRatePerSecond < 0 || changeRatePerSecond > MAX_CHANGES_PER_SECOND) {
    throw new Error(`wms: changeRatePerSecond must be a number from 0 to ${MAX_CHANGES_PER_SECOND}, got ${changeRatePerSecond}`);
  }
  if (!Number.isFinite(reservationTtlMs) || reservationTtlMs < 0) {
    throw new Error(`wms: reservationTtlMs must be a number >= 0, got ${reservationTtlMs}`);
  }
  // at least one: a record must survive the request that finished it, or the caller could not even read it back
  if (maxObjects !== undefined && (!Number.isSafeInteger(maxObjects) || maxObjects < 1)) {
    throw new Error(`wms: maxObjects must be an integer >= 1, got ${maxObjects}`);
  }

  // Before each request the state applies what has fallen due: reservation expiries (expiry.ts) and background
  // stock changes (simulation.ts); with neither configured that is two property checks.
  const handlers: Record<string, RestHandler<WmsState>> = {};
  for (const [operationId, handler] of Object.entries(wmsHandlers)) {
    handlers[operationId] = (req, state) => {
      state.catchUp();
      return handler(req, state);
    };
  }

  return {
    name: 'wms',
    contractFile: options.contractFile ?? DEFAULT_CONTRACT,
    handlers,
    // reads answer from the reply cache while nothing changed; every write appends to the change feed, so the feed's
    // latest sequence number is the state's revision (after the background changes due by now are applied)
    replyCache: {
      operations: ['getInventory', 'getItem', 'listItems', 'getWarehouse', 'listWarehouses', 'listWarehouseStock', 'getReservation', 'listReservations', 'getShipment', 'listChanges'],
      revision: (state) => {
        state.catchUp();
        return state.changes.latestSeq;
      },
    },
    createState: (state) => new WmsState({ ...state, skuCount: skus, warehouseCount: warehouses, changeRatePerSecond, reservationTtlMs, maxObjects }),
    snapshotState: snapshotWms,
    restoreState: (snapshot, state) =>
      restoreWms(snapshot, { ...state, skuCount: skus, warehouseCount: warehouses, changeRatePerSecond, reservationTtlMs, maxObjects }),
    // a catch-up the state recorded (one that skipped changes after a long idle) runs again at its moment
    replayEvent: (state, event) => {
      if (event === 'catch-up') state.catchUp();
    },
    events: wmsEvents,
    // PUT /__admin/wms/simulation, live and when the log is replayed (same input, same clock time)
    applyCommand: (state, name, input) => {
      if (name !== SIMULATION_COMMAND) throw new Error(`wms: no command ${name}`);
      return state.configureSimulation(parseSimulationChange(input));
    },
    // replaying a log against another catalogue or other timings would build another warehouse
    stateOptions: { skus, warehouses, changeRatePerSecond, reservationTtlMs, maxObjects: maxObjects ?? null },
  };
}
