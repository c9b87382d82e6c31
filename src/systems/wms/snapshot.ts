/**
 * Snapshots of one workspace's WMS state. The durable store replays accepted writes at start-up; with a snapshot
 * every N writes it restores the latest one and replays at most N writes after it.
 *
 * What a snapshot holds: everything that decides the state's answers and its future behaviour and does not follow
 * from the options (the options are recorded too, only to refuse a snapshot taken under other ones):
 * - the stock columns (on hand and reserved per cell; last change, version and feed position per SKU), as a patch
 *   on the seeded template that lists only the SKUs that differ from it, or whole once most SKUs do;
 * - the change feed's appended entries (dead ones not yet compacted included), how many are dead, the last
 *   sequence number and the pruned horizon;
 * - the reservations and shipments tables (records, number order, removed and issued counts), the external
 *   order index, the retirement queue (what is pruned next), the expiry queue and how many of its entries are dead;
 * - the simulation's progress (changes applied, when it started, its rate) and the last stamp handed out.
 * Not in it: the catalogue, the warehouses and the seeded template, which are pure functions of the options,
 * and the clock, which is the caller's (restoreWms uses options.clock).
 *
 * Why v8 serialisation (structured clone) and not JSON: the stock is typed arrays, tens of megabytes at
 * 1,000,000 SKUs, which structured clone writes as raw bytes where JSON would spell out every number and read
 * them back as plain arrays; and records share objects (a shipment's `allocations` is its reservation's array),
 * which structured clone keeps shared where JSON would make two copies. It keeps Maps and Infinity too.
 *
 * The bytes depend on the state's contents alone (see packedCopy): snapshot → restore → snapshot gives the same
 * bytes, and so does snapshotting an unchanged state twice. (Across Node versions or processes V8 may encode
 * the same numbers differently, so compare snapshots by bytes only within one process.)
 *
 * Layout: a 20-byte header, then the v8 payload.
 *   0   8 bytes   the kind tag 'USWMSNAP'
 *   8   uint32 LE the format version (FORMAT_VERSION)
 *  12   uint32 LE the payload's length
 *  16   uint32 LE the payload's CRC-32
 * The header is checked before anything is deserialised, so that a buffer of another kind or version, a
 * truncated one and a corrupted one are each refused with a message that says which. The payload's own format is
 * V8's: a snapshot written by a newer Node may not read on an older one.
 */
import { DefaultSerializer, deserialize } from 'node:v8';
import { types } from 'node:util';
import { crc32 } from 'node:zlib';
import { stockTemplate, type StockTemplate } from './seed.js';
import {
  reservationIdOf,
  seededStock,
  shipmentIdOf,
  WmsState,
  type StockColumns,
  type WmsStateData,
  type WmsStateOptions,
} from './state.js';

const KIND = Buffer.from('USWMSNAP', 'latin1');
/** Bump when the payload's shape changes; restoreWms reads this version only. */
export const FORMAT_VERSION = 1;
const HEADER_BYTES = 20;

/** The options that shape a state: a snapshot restores only under the same ones. */
interface ShapingOptions {
  seed: number;
  skuCount: number;
  warehouseCount: number;
  changeRatePerSecond: number;
  reservationTtlMs: number;
  maxObjects: number;
}

/** The stock columns, whole (`skus` null) or only the SKUs listed in `skus` (ascending), the rest as seeded. */
interface StockImage extends StockColumns {
  skus: Uint32Array | null;
}

interface Payload {
  options: ShapingOptions;
  stock: StockImage;
  state: Omit<WmsStateData, keyof StockColumns>;
}

/**
 * The state as it is now. Expiries and simulated changes that have fallen due but were not applied yet stay
 * pending: the restored state applies them when it next catches up, as the original would have.
 */
export function snapshotWms(state: WmsState): Buffer {
  const { onHand, reserved, updatedAt, version, skuSeq, ...rest } = state.toData();
  const options: ShapingOptions = {
    seed: state.seed,
    skuCount: state.skuCount,
    warehouseCount: state.warehouseCount,
    changeRatePerSecond: rest.simulation?.changesPerSecond ?? 0,
    reservationTtlMs: state.reservationTtlMs,
    maxObjects: state.maxObjects,
  };
  const template = stockTemplate(state.seed, state.skuCount, state.warehouseCount);
  const stock = stockImage({ onHand, reserved, updatedAt, version, skuSeq }, template, state.warehouseCount);
  const copies = new Map<object, object>();
  rest.reservations.records = packedCopy(rest.reservations.records, copies);
  rest.shipments.records = packedCopy(rest.shipments.records, copies);

  // what v8.serialize() writes, behind room for the header: no second copy of tens of megabytes to prepend it
  const serializer = new DefaultSerializer();
  serializer.writeRawBytes(Buffer.alloc(HEADER_BYTES));
  serializer.writeHeader();
  serializer.writeValue({ options, stock, state: rest } satisfies Payload);
  const snapshot = serializer.releaseBuffer();
  const payload = snapshot.subarray(HEADER_BYTES);
  KIND.copy(snapshot, 0);
  snapshot.writeUInt32LE(FORMAT_VERSION, 8);
  snapshot.writeUInt32LE(payload.length, 12);
  snapshot.writeUInt32LE(crc32(payload), 16);
  return snapshot;
}

/**
 * The state `snapshot` was taken of, behaving exactly as it would have from then on, on `options.clock`. Throws
 * when the buffer is not a WMS snapshot of this format version, is truncated or corrupt, or was taken under
 * other options (saying which). The state shares no memory with the buffer: deserialised typed arrays may be
 * views of it, so every one is copied.
 */
export function restoreWms(snapshot: Buffer, options: WmsStateOptions): WmsState {
  const payload = payloadOf(snapshot);
  let data: Payload;
  try {
    data = deserialize(payload) as Payload;
  } catch (error) {
    throw corrupt(error);
  }
  if (!isObject(data) || !isObject(data.options) || !isObject(data.stock) || !isObject(data.state)) throw corrupt('not a state');
  checkOptions(data.options, options);
  try {
    const stock = stockColumns(data.stock, data.options);
    const state = data.state;
    checkStateShape(state, data.options);
    return new WmsState(options, { ...stock, ...state });
  } catch (error) {
    throw corrupt(error);
  }
}

// --- the header ----------------------------------------------------------------------------------------------

function payloadOf(snapshot: Buffer): Buffer {
  if (!(snapshot instanceof Uint8Array) || snapshot.length < KIND.length || !KIND.equals(snapshot.subarray(0, KIND.length))) {
    throw new Error('wms snapshot: not a WMS snapshot (no USWMSNAP tag at the start)');
  }
  const bytes = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
  if (bytes.length < HEADER_BYTES) throw new Error(`wms snapshot: truncated (${bytes.length} bytes, the header alone is ${HEADER_BYTES})`);
  const format = bytes.readUInt32LE(8);
  if (format !== FORMAT_VERSION) throw new Error(`wms snapshot: format version ${format}, this build reads version ${FORMAT_VERSION} only`);
  const length = bytes.readUInt32LE(12);
  const actual = bytes.length - HEADER_BYTES;
  if (actual < length) throw new Error(`wms snapshot: truncated (${actual} of ${length} payload bytes)`);
  if (actual > length) throw new Error(`wms snapshot: corrupt (${actual - length} bytes after the ${length}-byte payload)`);
  const payload = bytes.subarray(HEADER_BYTES);
  if (crc32(payload) !== bytes.readUInt32LE(16)) throw new Error('wms snapshot: corrupt (checksum mismatch)');
  return payload;
}

function corrupt(cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(`wms snapshot: corrupt (${reason})`, { cause });
}

// --- options -------------------------------------------------------------------------------------------------

function checkOptions(taken: ShapingOptions, options: WmsStateOptions): void {
  const wanted: ShapingOptions = {
    seed: options.seed,
    skuCount: options.skuCount,
    warehouseCount: options.warehouseCount,
    changeRatePerSecond: options.changeRatePerSecond ?? 0,
    reservationTtlMs: options.reservationTtlMs ?? 0,
    maxObjects: options.maxObjects ?? Infinity,
  };
  const differences = (Object.keys(wanted) as Array<keyof ShapingOptions>)
    .filter((name) => !Object.is(taken[name], wanted[name]))
    .map((name) => `${name} ${taken[name]} (restoring with ${wanted[name]})`);
  if (differences.length > 0) throw new Error(`wms snapshot: taken with other options: ${differences.join(', ')}`);
}

// --- stock ---------------------------------------------------------------------------------------------------

/** Bytes of one SKU's columns in a whole image; a listed SKU costs its number (4 bytes) on top. */
const skuBytes = (warehouseCount: number) => warehouseCount * 8 + 20;

function stockImage(columns: StockColumns, template: StockTemplate, warehouseCount: number): StockImage {
  const skuCount = columns.version.length;
  const changed = new Uint32Array(skuCount);
  let count = 0;
  for (let sku = 0; sku < skuCount; sku++) {
    if (!isSeeded(columns, template, warehouseCount, sku)) changed[count++] = sku;
  }
  const perSku = skuBytes(warehouseCount);
  if (count * (perSku + 4) >= skuCount * perSku) return { skus: null, ...columns };

  const skus = changed.slice(0, count);
  const onHand = new Int32Array(count * warehouseCount);
  const reserved = new Int32Array(count * warehouseCount);
  for (let i = 0; i < count; i++) {
    const from = skus[i] * warehouseCount;
    onHand.set(columns.onHand.subarray(from, from + warehouseCount), i * warehouseCount);
    reserved.set(columns.reserved.subarray(from, from + warehouseCount), i * warehouseCount);
  }
  return {
    skus,
    onHand,
    reserved,
    updatedAt: Float64Array.from(skus, (sku) => columns.updatedAt[sku]),
    version: Uint32Array.from(skus, (sku) => columns.version[sku]),
    skuSeq: Float64Array.from(skus, (sku) => columns.skuSeq[sku]),
  };
}

/** True when the SKU's columns are as seededStock() made them (compared, not inferred from its version). */
function isSeeded(columns: StockColumns, template: StockTemplate, warehouseCount: number, sku: number): boolean {
  if (columns.version[sku] !== 1 || columns.skuSeq[sku] !== sku + 1 || columns.updatedAt[sku] !== template.updatedAt[sku]) return false;
  for (let cell = sku * warehouseCount; cell < (sku + 1) * warehouseCount; cell++) {
    if (columns.onHand[cell] !== template.onHand[cell] || columns.reserved[cell] !== 0) return false;
  }
  return true;
}

/** Fresh columns from an image: deserialised typed arrays may be views of the snapshot's buffer, so never adopted. */
function stockColumns(image: StockImage, options: ShapingOptions): StockColumns {
  const { skuCount, warehouseCount } = options;
  const listed = image.skus === null ? skuCount : checkedSkus(image.skus, skuCount).length;
  expectTyped(image.onHand, types.isInt32Array, listed * warehouseCount, 'stock.onHand');
  expectTyped(image.reserved, types.isInt32Array, listed * warehouseCount, 'stock.reserved');
  expectTyped(image.updatedAt, types.isFloat64Array, listed, 'stock.updatedAt');
  expectTyped(image.version, types.isUint32Array, listed, 'stock.version');
  expectTyped(image.skuSeq, types.isFloat64Array, listed, 'stock.skuSeq');
  if (image.skus === null) {
    return {
      onHand: image.onHand.slice(),
      reserved: image.reserved.slice(),
      updatedAt: image.updatedAt.slice(),
      version: image.version.slice(),
      skuSeq: image.skuSeq.slice(),
    };
  }
  const columns = seededStock(stockTemplate(options.seed, skuCount, warehouseCount), skuCount);
  image.skus.forEach((sku, i) => {
    columns.onHand.set(image.onHand.subarray(i * warehouseCount, (i + 1) * warehouseCount), sku * warehouseCount);
    columns.reserved.set(image.reserved.subarray(i * warehouseCount, (i + 1) * warehouseCount), sku * warehouseCount);
    columns.updatedAt[sku] = image.updatedAt[i];
    columns.version[sku] = image.version[i];
    columns.skuSeq[sku] = image.skuSeq[i];
  });
  return columns;
}

function checkedSkus(skus: unknown, skuCount: number): Uint32Array {
  expectTyped(skus, types.isUint32Array, undefined, 'stock.skus');
  for (let i = 0; i < skus.length; i++) {
    if (skus[i] >= skuCount || (i > 0 && skus[i] <= skus[i - 1])) throw new Error(`stock.skus: ${skus[i]} out of order or range`);
  }
  return skus;
}

// --- records --------------------------------------------------------------------------------------------------

/**
 * A copy of `value` whose arrays are all packed. V8 writes a packed array in its dense form and a holey one in its
 * sparse form, and whether an array is holey depends on how it was made, not on what it holds: deserialising
 * makes every array holey, and Array.prototype.map makes holey ones or not depending on whether the JIT has
 * optimised the caller. Snapshots write records through this so that their bytes depend on the contents alone
 * (a restored state snapshots to the bytes it came from). One copy per object: objects shared between records (a
 * shipment's allocations are its reservation's) stay shared.
 */
function packedCopy<T>(value: T, copies: Map<object, object>): T {
  if (typeof value !== 'object' || value === null) return value;
  let copy = copies.get(value);
  if (copy === undefined) {
    if (Array.isArray(value)) {
      const list: unknown[] = [];
      copies.set(value, list);
      for (const element of value) list.push(packedCopy(element, copies));
      copy = list;
    } else {
      // a spread keeps the key order (and is fast); then the fields that hold objects are replaced by copies
      const object: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      copies.set(value, object);
      for (const key in object) {
        const field = object[key];
        if (typeof field === 'object' && field !== null) object[key] = packedCopy(field, copies);
      }
      copy = object;
    }
  }
  return copy as T;
}

// --- the rest's shape (the parts' fromData() check their own consistency) -----------------------------------

function checkStateShape(state: Payload['state'], options: ShapingOptions): void {
  if (typeof state.lastStamp !== 'number' || !Number.isFinite(state.lastStamp)) throw new Error('lastStamp is not a time');
  const { changes, reservations, shipments, retired, expiry, simulation } = state;
  expectObject(changes, 'changes');
  expectTyped(changes.seqs, types.isFloat64Array, undefined, 'changes.seqs');
  expectTyped(changes.entities, types.isUint8Array, undefined, 'changes.entities');
  expectTyped(changes.refs, types.isFloat64Array, undefined, 'changes.refs');
  expectTyped(changes.stamps, types.isFloat64Array, undefined, 'changes.stamps');
  for (const [table, name, idOf] of [
    [reservations, 'reservations', reservationIdOf],
    [shipments, 'shipments', shipmentIdOf],
  ] as const) {
    expectObject(table, name);
    if (!Array.isArray(table.records)) throw new Error(`${name}.records is not a list`);
    expectTyped(table.order, types.isFloat64Array, undefined, `${name}.order`);
    // lookups derive the number from the id
    for (const record of table.records as unknown[]) {
      if (!isObject(record) || !Number.isSafeInteger(record.index) || record.id !== idOf(record.index)) {
        throw new Error(`${name}: a record's id does not match its number`);
      }
    }
  }
  if (!types.isMap(state.reservationByExternalOrder)) throw new Error('the external order index is not a map');
  expectPairQueue(retired, 'retired');
  if ((expiry !== null) !== options.reservationTtlMs > 0) throw new Error('expiry queue present without a TTL, or missing with one');
  if (expiry !== null) {
    expectObject(expiry, 'expiry');
    expectPairQueue(expiry.queue, 'expiry.queue');
  }
  if ((simulation !== null) !== options.changeRatePerSecond > 0) throw new Error('simulation present without a rate, or missing with one');
  if (simulation !== null) {
    expectObject(simulation, 'simulation');
    if (simulation.changesPerSecond !== options.changeRatePerSecond) throw new Error('the simulation runs at another rate than the options say');
  }
}

function expectPairQueue(queue: unknown, name: string): void {
  expectObject(queue, name);
  expectTyped((queue as { items: unknown }).items, types.isFloat64Array, undefined, `${name}.items`);
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null;
}

function expectObject(value: unknown, name: string): asserts value is Record<string, any> {
  if (!isObject(value)) throw new Error(`${name} is missing`);
}

function expectTyped<T extends ArrayLike<number>>(
  value: unknown,
  is: (value: unknown) => value is T,
  length: number | undefined,
  name: string,
): asserts value is T {
  if (!is(value)) throw new Error(`${name} is not the expected typed array`);
  if (length !== undefined && value.length !== length) throw new Error(`${name} holds ${value.length} values, not ${length}`);
}
