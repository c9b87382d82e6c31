/**
 * The ERP's state as bytes for the store's snapshots, and back. Only the overlays are kept (written customers,
 * created and changed sales orders, the tombstones of deleted ones, the change log, the document counters and the
 * revision), as JSON: the seeded base is rebuilt from (seed, sizes), never written to disk. The snapshot names its
 * format, the seed and the sizes; restoring refuses bytes that are not an ERP snapshot or were taken with another
 * seed or other sizes (ids and the base derive from them), as a log replays only against the same.
 *
 * Format version 2 added the tombstones and the change log (issue #12, the OData face). A version 1 snapshot is
 * refused rather than read with an empty change log: its customers were not bumped when their open order value
 * changed, and delta links issued before it would silently miss changes.
 */
import type { ErpSizes } from './seed.js';
import { ErpState, type ErpOverlays, type ErpStateOptions } from './state.js';

const FORMAT = 'understudy-erp-snapshot';
const VERSION = 2;

interface SnapshotData extends ErpOverlays {
  format: string;
  version: number;
  seed: number;
  options: ErpSizes;
}

const SIZE_KEYS = ['customers', 'invoices', 'invoiceLines'] as const;

export function snapshotErp(state: ErpState): Buffer {
  const data: SnapshotData = { format: FORMAT, version: VERSION, seed: state.seed, options: { ...state.sizes }, ...state.overlays() };
  return Buffer.from(JSON.stringify(data), 'utf8');
}

export function restoreErp(bytes: Buffer, options: ErpStateOptions): ErpState {
  let data: SnapshotData;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Error('erp snapshot: not an ERP snapshot (not JSON)');
  }
  if (!data || typeof data !== 'object' || data.format !== FORMAT) throw new Error('erp snapshot: not an ERP snapshot (no format tag)');
  if (data.version !== VERSION) throw new Error(`erp snapshot: format version ${String(data.version)}, this build reads version ${VERSION}`);
  const differences: string[] = [];
  if (data.seed !== options.seed) differences.push(`seed ${String(data.seed)} (now ${options.seed})`);
  for (const key of SIZE_KEYS) {
    if (data.options?.[key] !== options[key]) differences.push(`${key} ${JSON.stringify(data.options?.[key])} (now ${options[key]})`);
  }
  if (differences.length) throw new Error(`erp snapshot: taken with other options: ${differences.join(', ')}`);
  try {
    if (!Array.isArray(data.customers) || !Array.isArray(data.salesOrders)) throw new Error('no overlays');
    // the tombstones and the change log are checked as they load (ErpState.loadOverlays)
    const state = new ErpState(options);
    state.loadOverlays(data);
    return state;
  } catch (err) {
    throw new Error(`erp snapshot: corrupt (${err instanceof Error ? err.message : String(err)})`);
  }
}
