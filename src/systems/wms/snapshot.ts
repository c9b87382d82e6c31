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
 * - the simulation's progress (its current segment's rate, as a number and as the admin wrote it, whether an admin
 *   paused it, when the segment started, the changes applied in it, and how many the segments before made) and
 *   the last stamp handed out.
 * Not in it: the catalogue, the warehouses and the seeded template, which are pure functions of the options,
 * and the clock, which is the caller's (restoreWms uses options.clock).
 *
 * Why columns, and not v8.serialize as format 1 did: the durable store takes a snapshot on the event loop, inside
 * a commit, so live traffic waits for it. Structured clone writes every record as an object, each property name
 * included, and reads it back property by property: about 13 µs and 437 bytes per reservation, 2 s and 65 MB at
 * 150,000 of them, and as long again to restore. Here each table is taken apart into columns (snapshot-payload.ts):
 * every number field of every record goes into one typed array, written as raw bytes straight into the snapshot
 * and read back in place; nested lists (a reservation's lines and allocations, a shipment's history) are flattened
 * into columns of their own, beside a column of counts; statuses and entity kinds are one-byte codes; null times
 * are NaN. Strings go into one JSON list that the columns refer to by position, recurring ones (SKUs, line
 * signatures, carriers) once; a shipment's address, the caller's JSON, stays JSON. Restoring parses that list
 * and builds each record with one object literal, in the shape the handlers make them. Ids are not stored: they
 * follow from the records' numbers. The external order index is stored as the reservation numbers in its
 * order: each key is that reservation's externalOrderId. At 150,000 reservations that is 32 MB (about 215 bytes
 * each) written in about a tenth of the time; restoring is now mostly building the state's objects and maps.
 *
 * What structured clone kept for free is kept by hand: a shipment's `allocations` is its reservation's array
 * (shared, never copied, by WmsState.addShipment), so a shipment whose reservation is stored says so instead of
 * repeating the allocations, and restoring hands it that reservation's array again; a shipment whose reservation
 * has been pruned has its own copy (and one that shares it with an earlier shipment says which).
 *
 * The bytes depend on the state's contents alone: snapshot → restore → snapshot gives the same bytes, and so does
 * snapshotting an unchanged state twice.
 *
 * Layout: a 20-byte header, then the payload (snapshot-payload.ts: a JSON document, then the columns).
 *   0   8 bytes   the kind tag 'USWMSNAP'
 *   8   uint32 LE the format version (FORMAT_VERSION)
 *  12   uint32 LE the payload's length
 *  16   uint32 LE the payload's CRC-32
 * The header is checked before anything is decoded, so that a buffer of another kind or version (format 1
 * included), a truncated one and a corrupted one are each refused with a message that says which. A payload that
 * passes the checksum but does not describe a consistent state (only a bug would write one) is refused as
 * corrupt, saying what is wrong with it.
 */
import { crc32 } from 'node:zlib';
import type { ChangeLogData } from './change-log.js';
import type { RecordTableData } from './record-table.js';
import { stockTemplate, type StockTemplate } from './seed.js';
import { describeChangeRate } from './change-rate.js';
import type { StockSimulationData } from './simulation.js';
import { PayloadReader, PayloadWriter, type Column, type ColumnType, type Columns } from './snapshot-payload.js';
import {
  reservationIdOf,
  seededStock,
  shipmentIdOf,
  WmsState,
  type Address,
  type Allocation,
  type RequestedLine,
  type ReservationStatus,
  type ShipmentStatus,
  type StockColumns,
  type StoredReservation,
  type StoredShipment,
  type WmsStateOptions,
} from './state.js';

const KIND = Buffer.from('USWMSNAP', 'latin1');
/**
 * Bump when the payload's shape changes; restoreWms reads this version only. (1 was v8.serialize of the state; 2
 * kept a simulation of one rate, the configured one. 3 adds what an admin can change at runtime: the rate as
 * written, a pause, and the changes earlier segments made, without which a restored simulation would repeat
 * changes already made and forget a pause.)
 */
export const FORMAT_VERSION = 3;
const HEADER_BYTES = 20;

type Reader = PayloadReader<Document>;

/** The options that shape a state: a snapshot restores only under the same ones. */
interface ShapingOptions {
  seed: number;
  skuCount: number;
  warehouseCount: number;
  changeRatePerSecond: number;
  reservationTtlMs: number;
  maxObjects: number;
}

/** The payload's document: what is not in a column. */
interface Document {
  /** maxObjects Infinity (no limit) as null: JSON has no Infinity */
  options: Omit<ShapingOptions, 'maxObjects'> & { maxObjects: number | null };
  /** false: the stock columns are whole; true: they hold only the SKUs in column stock.skus, the rest is as seeded */
  stockPatch: boolean;
  changes: Pick<ChangeLogData, 'superseded' | 'last' | 'prunedUpTo'>;
  reservations: Omit<RecordTableData<unknown>, 'records' | 'order'>;
  shipments: Omit<RecordTableData<unknown>, 'records' | 'order'>;
  retiredHead: number;
  /** null when reservations never expire */
  expiry: { head: number; abandoned: number } | null;
  simulation: StockSimulationData | null;
  lastStamp: number;
  /** per shipment, its address as the caller gave it */
  shipTo: Array<Address | null>;
}

/**
 * The state as it is now. Expiries and simulated changes that have fallen due but were not applied yet stay
 * pending: the restored state applies them when it next catches up, as the original would have.
 */
export function snapshotWms(state: WmsState): Buffer {
  const data = state.toData();
  const out = new PayloadWriter(HEADER_BYTES);
  const template = stockTemplate(state.seed, state.skuCount, state.warehouseCount);
  const stockPatch = writeStock(out, data, template, state.warehouseCount);
  writeChanges(out, data.changes);
  const reservations = data.reservations.records;
  // the reservations' allocations, then those shipments' whose reservation does not hold them
  const allocations = new AllocationsWriter();
  writeReservations(out, reservations, allocations);
  const shipTo = writeShipments(out, data.shipments.records, reservations, allocations);
  allocations.write(out);
  out.copy('reservations.order', 'f64', data.reservations.order);
  out.copy('shipments.order', 'f64', data.shipments.order);
  out.copy('externalOrderIndex', 'f64', data.externalOrderIndex);
  out.copy('retired', 'f64', data.retired.items);
  if (data.expiry !== null) out.copy('expiry', 'f64', data.expiry.queue.items);

  const document: Document = {
    options: {
      seed: state.seed,
      skuCount: state.skuCount,
      warehouseCount: state.warehouseCount,
      // the configured rate, which the log was written with; the simulation's own may have been changed since
      changeRatePerSecond: state.changeRatePerSecond,
      reservationTtlMs: state.reservationTtlMs,
      maxObjects: Number.isFinite(state.maxObjects) ? state.maxObjects : null,
    },
    stockPatch,
    changes: { superseded: data.changes.superseded, last: data.changes.last, prunedUpTo: data.changes.prunedUpTo },
    reservations: { removedInOrder: data.reservations.removedInOrder, issued: data.reservations.issued },
    shipments: { removedInOrder: data.shipments.removedInOrder, issued: data.shipments.issued },
    retiredHead: data.retired.head,
    expiry: data.expiry === null ? null : { head: data.expiry.queue.head, abandoned: data.expiry.abandoned },
    simulation: data.simulation,
    lastStamp: data.lastStamp,
    shipTo,
  };
  const snapshot = out.finish(document);
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
 * other options (saying which). The state shares no memory with the buffer.
 */
export function restoreWms(snapshot: Buffer, options: WmsStateOptions): WmsState {
  const bytes = checkedSnapshot(snapshot);
  let input: Reader;
  let taken: ShapingOptions;
  try {
    input = new PayloadReader<Document>(bytes, HEADER_BYTES);
    // format 2 (written before the simulation could be changed at runtime) differs only there: its one segment ran
    // at the configured rate from the start, unpaused
    if (bytes.readUInt32LE(8) === 2) upgradeFormat2(input.document);
    taken = takenOptions(input.document.options);
  } catch (error) {
    throw corrupt(error);
  }
  checkOptions(taken, options);
  try {
    const doc = checkedDocument(input.document, taken);
    const stock = readStock(input, doc.stockPatch, taken);
    const allocations = new AllocationsReader(input, taken);
    const reservations = readReservations(input, allocations);
    const shipments = readShipments(input, doc.shipTo, reservations, allocations);
    allocations.end();
    // the parts' fromData() (through the constructor) check their own consistency, and copy what they keep
    const table = <T>(name: 'reservations' | 'shipments', records: T[]): RecordTableData<T> => ({
      records,
      order: input.column(`${name}.order`, 'f64'),
      removedInOrder: doc[name].removedInOrder,
      issued: doc[name].issued,
    });
    return new WmsState(options, {
      ...stock,
      changes: readChanges(input, doc.changes),
      reservations: table('reservations', reservations),
      shipments: table('shipments', shipments),
      externalOrderIndex: input.column('externalOrderIndex', 'f64'),
      retired: { items: input.column('retired', 'f64'), head: doc.retiredHead },
      expiry: doc.expiry && { queue: { items: input.column('expiry', 'f64'), head: doc.expiry.head }, abandoned: doc.expiry.abandoned },
      simulation: doc.simulation,
      lastStamp: doc.lastStamp,
    });
  } catch (error) {
    throw corrupt(error);
  }
}

// --- the header ----------------------------------------------------------------------------------------------

/** The snapshot as a Buffer, once its header says it is one of this version, whole, with the right checksum. */
function checkedSnapshot(snapshot: Buffer): Buffer {
  if (!(snapshot instanceof Uint8Array) || snapshot.length < KIND.length || !KIND.equals(snapshot.subarray(0, KIND.length))) {
    throw new Error('wms snapshot: not a WMS snapshot (no USWMSNAP tag at the start)');
  }
  const bytes = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
  if (bytes.length < HEADER_BYTES) throw new Error(`wms snapshot: truncated (${bytes.length} bytes, the header alone is ${HEADER_BYTES})`);
  const format = bytes.readUInt32LE(8);
  if (format !== FORMAT_VERSION && format !== 2) throw new Error(`wms snapshot: format version ${format}, this build reads versions 2 and ${FORMAT_VERSION}`);
  const length = bytes.readUInt32LE(12);
  const actual = bytes.length - HEADER_BYTES;
  if (actual < length) throw new Error(`wms snapshot: truncated (${actual} of ${length} payload bytes)`);
  if (actual > length) throw new Error(`wms snapshot: corrupt (${actual - length} bytes after the ${length}-byte payload)`);
  if (crc32(bytes.subarray(HEADER_BYTES)) !== bytes.readUInt32LE(16)) throw new Error('wms snapshot: corrupt (checksum mismatch)');
  return bytes;
}

function corrupt(cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(`wms snapshot: corrupt (${reason})`, { cause });
}

// --- small helpers ---------------------------------------------------------------------------------------------

/** The sum of `counts` (how many values the column they count must hold). */
function total(counts: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < counts.length; i++) sum += counts[i];
  return sum;
}

/** NaN stands for null in the number columns. */
const orNaN = (value: number | null): number => value ?? NaN;
const orNull = (value: number): number | null => (Number.isNaN(value) ? null : value);

/** The position of `name` in `names` (its code); throws when it is none of them. */
function codeOf<T>(names: readonly T[], name: T): number {
  const code = names.indexOf(name);
  if (code < 0) throw new Error(`wms snapshot: ${String(name)} has no code`);
  return code;
}

/** The name a code stands for; `what` names it in the error when it stands for none. */
function named<T>(names: readonly T[], code: number, what: string): T {
  if (code >= names.length) throw new Error(`${what}: no code ${code}`);
  return names[code];
}

/** The record numbered `index` in `records` (in number order), or undefined. */
function byNumber<T extends { index: number }>(records: readonly T[], index: number): T | undefined {
  let low = 0;
  let high = records.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (records[mid].index < index) low = mid + 1;
    else high = mid;
  }
  return records[low]?.index === index ? records[low] : undefined;
}

// --- options -------------------------------------------------------------------------------------------------

function takenOptions(options: unknown): ShapingOptions {
  const numbers = ['seed', 'skuCount', 'warehouseCount', 'changeRatePerSecond', 'reservationTtlMs'] as const;
  if (!isObject(options) || numbers.some((name) => typeof options[name] !== 'number') || (options.maxObjects !== null && typeof options.maxObjects !== 'number')) {
    throw new Error('the options are not recorded');
  }
  return {
    seed: options.seed,
    skuCount: options.skuCount,
    warehouseCount: options.warehouseCount,
    changeRatePerSecond: options.changeRatePerSecond,
    reservationTtlMs: options.reservationTtlMs,
    maxObjects: options.maxObjects ?? Infinity,
  };
}

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

/** Writes the stock columns, whole or as a patch on the template; true when a patch. */
function writeStock(out: PayloadWriter, columns: StockColumns, template: StockTemplate, warehouseCount: number): boolean {
  const skuCount = columns.version.length;
  const changed = new Uint32Array(skuCount);
  let count = 0;
  for (let sku = 0; sku < skuCount; sku++) {
    if (!isSeeded(columns, template, warehouseCount, sku)) changed[count++] = sku;
  }
  const perSku = skuBytes(warehouseCount);
  if (count * (perSku + 4) >= skuCount * perSku) {
    writeStockColumns(out, columns);
    return false;
  }

  const skus = changed.slice(0, count);
  const onHand = new Int32Array(count * warehouseCount);
  const reserved = new Int32Array(count * warehouseCount);
  for (let i = 0; i < count; i++) {
    const from = skus[i] * warehouseCount;
    onHand.set(columns.onHand.subarray(from, from + warehouseCount), i * warehouseCount);
    reserved.set(columns.reserved.subarray(from, from + warehouseCount), i * warehouseCount);
  }
  out.copy('stock.skus', 'u32', skus);
  writeStockColumns(out, {
    onHand,
    reserved,
    updatedAt: Float64Array.from(skus, (sku) => columns.updatedAt[sku]),
    version: Uint32Array.from(skus, (sku) => columns.version[sku]),
    skuSeq: Float64Array.from(skus, (sku) => columns.skuSeq[sku]),
  });
  return true;
}

function writeStockColumns(out: PayloadWriter, columns: StockColumns): void {
  out.copy('stock.onHand', 'i32', columns.onHand);
  out.copy('stock.reserved', 'i32', columns.reserved);
  out.copy('stock.updatedAt', 'f64', columns.updatedAt);
  out.copy('stock.version', 'u32', columns.version);
  out.copy('stock.skuSeq', 'f64', columns.skuSeq);
}

/** True when the SKU's columns are as seededStock() made them (compared, not inferred from its version). */
function isSeeded(columns: StockColumns, template: StockTemplate, warehouseCount: number, sku: number): boolean {
  if (columns.version[sku] !== 1 || columns.skuSeq[sku] !== sku + 1 || columns.updatedAt[sku] !== template.updatedAt[sku]) return false;
  for (let cell = sku * warehouseCount; cell < (sku + 1) * warehouseCount; cell++) {
    if (columns.onHand[cell] !== template.onHand[cell] || columns.reserved[cell] !== 0) return false;
  }
  return true;
}

function readStock(input: Reader, patch: boolean, options: ShapingOptions): StockColumns {
  const { skuCount, warehouseCount } = options;
  const skus = patch ? checkedSkus(input.column('stock.skus', 'u32'), skuCount) : null;
  const listed = skus === null ? skuCount : skus.length;
  const image: StockColumns = {
    onHand: input.column('stock.onHand', 'i32', listed * warehouseCount),
    reserved: input.column('stock.reserved', 'i32', listed * warehouseCount),
    updatedAt: input.column('stock.updatedAt', 'f64', listed),
    version: input.column('stock.version', 'u32', listed),
    skuSeq: input.column('stock.skuSeq', 'f64', listed),
  };
  // the state adopts whole columns: copies, not views of the snapshot
  if (skus === null) {
    return {
      onHand: image.onHand.slice(),
      reserved: image.reserved.slice(),
      updatedAt: image.updatedAt.slice(),
      version: image.version.slice(),
      skuSeq: image.skuSeq.slice(),
    };
  }
  const columns = seededStock(stockTemplate(options.seed, skuCount, warehouseCount), skuCount);
  skus.forEach((sku, i) => {
    columns.onHand.set(image.onHand.subarray(i * warehouseCount, (i + 1) * warehouseCount), sku * warehouseCount);
    columns.reserved.set(image.reserved.subarray(i * warehouseCount, (i + 1) * warehouseCount), sku * warehouseCount);
    columns.updatedAt[sku] = image.updatedAt[i];
    columns.version[sku] = image.version[i];
    columns.skuSeq[sku] = image.skuSeq[i];
  });
  return columns;
}

function checkedSkus(skus: Uint32Array, skuCount: number): Uint32Array {
  for (let i = 0; i < skus.length; i++) {
    if (skus[i] >= skuCount || (i > 0 && skus[i] <= skus[i - 1])) throw new Error(`stock.skus: ${skus[i]} out of order or range`);
  }
  return skus;
}

// --- the change feed -----------------------------------------------------------------------------------------

function writeChanges(out: PayloadWriter, changes: ChangeLogData): void {
  out.copy('changes.seqs', 'f64', changes.seqs);
  out.copy('changes.entities', 'u8', changes.entities);
  out.copy('changes.refs', 'f64', changes.refs);
  out.copy('changes.stamps', 'f64', changes.stamps);
}

function readChanges(input: Reader, counters: Document['changes']): ChangeLogData {
  const seqs = input.column('changes.seqs', 'f64');
  return {
    seqs,
    entities: input.column('changes.entities', 'u8', seqs.length),
    refs: input.column('changes.refs', 'f64', seqs.length),
    stamps: input.column('changes.stamps', 'f64', seqs.length),
    superseded: counters.superseded,
    last: counters.last,
    prunedUpTo: counters.prunedUpTo,
  };
}

// --- records -------------------------------------------------------------------------------------------------

const RESERVATION_STATUSES: readonly ReservationStatus[] = ['active', 'released', 'expired', 'fulfilled'];
const SHIPMENT_STATUSES: readonly ShipmentStatus[] = ['created', 'picked', 'packed', 'shipped', 'delivered', 'cancelled'];

/**
 * Where a shipment's allocations are, in column shipments.allocationsFrom: its reservation's array, its own
 * (written after the reservations' in the allocations columns), or an earlier shipment's (its position, 0 up).
 */
const ITS_RESERVATIONS = -2;
const ITS_OWN = -1;

/** A reservation's fields that are numbers, a code (status) or a count (lines), one column each. */
const RESERVATION_COLUMNS = {
  index: 'f64',
  status: 'u8',
  shipmentIndex: 'f64',
  createdAt: 'f64',
  updatedAt: 'f64',
  expiresAt: 'f64',
  releasedAt: 'f64',
  fulfilledAt: 'f64',
  version: 'f64',
  seq: 'f64',
  lines: 'u32',
} as const;
/** References to the strings list, one column each. */
const RESERVATION_TEXT = { externalOrderId: 'u32', linesSignature: 'u32' } as const;
const LINE_COLUMNS = { quantity: 'f64' } as const;
const LINE_TEXT = { sku: 'u32', warehouseId: 'u32' } as const;

/**
 * Reservations, in number order (columns reservations.*), their lines flattened (lines.*, as many per
 * reservation as reservations.lines says), their allocations handed to `allocations`.
 */
function writeReservations(out: PayloadWriter, records: readonly StoredReservation[], allocations: AllocationsWriter): void {
  const n = records.length;
  out.columns('reservations', n, RESERVATION_COLUMNS, (columns) => {
    const { index, status, shipmentIndex, createdAt, updatedAt, expiresAt, releasedAt, fulfilledAt, version, seq, lines } = columns;
    for (let i = 0; i < n; i++) {
      const r = records[i];
      index[i] = r.index;
      status[i] = codeOf(RESERVATION_STATUSES, r.status);
      shipmentIndex[i] = r.shipmentIndex;
      createdAt[i] = r.createdAt;
      updatedAt[i] = r.updatedAt;
      expiresAt[i] = orNaN(r.expiresAt);
      releasedAt[i] = orNaN(r.releasedAt);
      fulfilledAt[i] = orNaN(r.fulfilledAt);
      version[i] = r.version;
      seq[i] = r.seq;
      lines[i] = r.lines.length;
    }
  });

  // the strings are referred to now (the document lists them), so their columns are made now, and copied in
  const text = { externalOrderId: new Uint32Array(n), linesSignature: new Uint32Array(n) };
  let lineTotal = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    text.externalOrderId[i] = out.single(r.externalOrderId);
    text.linesSignature[i] = out.shared(r.linesSignature);
    lineTotal += r.lines.length;
    allocations.add(r.allocations);
  }
  const lineText = { sku: new Uint32Array(lineTotal), warehouseId: new Uint32Array(lineTotal) };
  for (let i = 0, l = 0; i < n; i++) {
    const lines = records[i].lines;
    for (let j = 0; j < lines.length; j++, l++) {
      lineText.sku[l] = out.shared(lines[j].sku);
      lineText.warehouseId[l] = out.shared(lines[j].warehouseId);
    }
  }
  out.columns('reservations.text', n, RESERVATION_TEXT, (columns) => copyAll(columns, text));
  out.columns('lines.text', lineTotal, LINE_TEXT, (columns) => copyAll(columns, lineText));
  out.columns('lines', lineTotal, LINE_COLUMNS, ({ quantity }) => {
    for (let i = 0, l = 0; i < n; i++) {
      const lines = records[i].lines;
      for (let j = 0; j < lines.length; j++, l++) quantity[l] = lines[j].quantity;
    }
  });
}

function readReservations(input: Reader, allocations: AllocationsReader): StoredReservation[] {
  const n = input.length('reservations.index');
  const columns = input.columns('reservations', n, RESERVATION_COLUMNS);
  const { index, status, shipmentIndex, createdAt, updatedAt, expiresAt, releasedAt, fulfilledAt, version, seq } = columns;
  const text = input.columns('reservations.text', n, RESERVATION_TEXT);
  const lineCount = columns.lines;
  const lineTotal = total(lineCount);
  const lineText = input.columns('lines.text', lineTotal, LINE_TEXT);
  const { quantity } = input.columns('lines', lineTotal, LINE_COLUMNS);

  const records: StoredReservation[] = new Array(n);
  for (let i = 0, l = 0; i < n; i++) {
    // lists of their exact length: pushing onto [] would reserve room for 17
    const lines = new Array<RequestedLine>(lineCount[i]);
    for (let j = 0; j < lines.length; j++, l++) {
      lines[j] = {
        sku: input.string(lineText.sku[l], 'a line\'s SKU'),
        quantity: quantity[l],
        warehouseId: input.stringOrNull(lineText.warehouseId[l], 'a line\'s warehouse'),
      };
    }
    // the fields in the order WmsState.addReservation() makes them in, so that the objects have the same shape
    records[i] = {
      index: index[i],
      id: reservationIdOf(index[i]),
      status: named(RESERVATION_STATUSES, status[i], 'a reservation\'s status'),
      shipmentIndex: shipmentIndex[i],
      createdAt: createdAt[i],
      updatedAt: updatedAt[i],
      expiresAt: orNull(expiresAt[i]),
      releasedAt: orNull(releasedAt[i]),
      fulfilledAt: orNull(fulfilledAt[i]),
      version: version[i],
      seq: seq[i],
      externalOrderId: input.string(text.externalOrderId[i], 'an external order id'),
      lines,
      allocations: allocations.next(),
      linesSignature: input.string(text.linesSignature[i], 'a line signature'),
    };
  }
  return records;
}

/** A shipment's fields that are numbers, a code (status) or a count (history). */
const SHIPMENT_COLUMNS = {
  index: 'f64',
  reservationIndex: 'f64',
  status: 'u8',
  createdAt: 'f64',
  updatedAt: 'f64',
  version: 'f64',
  seq: 'f64',
  history: 'u32',
} as const;
const SHIPMENT_TEXT = { externalOrderId: 'u32', carrier: 'u32', service: 'u32', trackingNumber: 'u32' } as const;
const HISTORY_COLUMNS = { status: 'u8', at: 'f64' } as const;

/**
 * Shipments, in number order (shipments.*), their status histories flattened (history.*); their addresses are
 * returned, for the document. A shipment whose allocations are its stored reservation's says so (ITS_RESERVATIONS
 * in shipments.allocationsFrom) instead of repeating them; `reservations` are the snapshot's, in number order.
 */
function writeShipments(
  out: PayloadWriter,
  records: readonly StoredShipment[],
  reservations: readonly StoredReservation[],
  allocations: AllocationsWriter,
): Array<Address | null> {
  const n = records.length;
  let historyTotal = 0;
  for (let i = 0; i < n; i++) historyTotal += records[i].history.length;
  out.columns('shipments', n, SHIPMENT_COLUMNS, (columns) => {
    const { index, reservationIndex, status, createdAt, updatedAt, version, seq, history } = columns;
    for (let i = 0; i < n; i++) {
      const s = records[i];
      index[i] = s.index;
      reservationIndex[i] = s.reservationIndex;
      status[i] = codeOf(SHIPMENT_STATUSES, s.status);
      createdAt[i] = s.createdAt;
      updatedAt[i] = s.updatedAt;
      version[i] = s.version;
      seq[i] = s.seq;
      history[i] = s.history.length;
    }
  });
  out.columns('history', historyTotal, HISTORY_COLUMNS, ({ status, at }) => {
    for (let i = 0, h = 0; i < n; i++) {
      const history = records[i].history;
      for (let j = 0; j < history.length; j++, h++) {
        status[h] = codeOf(SHIPMENT_STATUSES, history[j].status);
        at[h] = history[j].at;
      }
    }
  });

  const text = { externalOrderId: new Uint32Array(n), carrier: new Uint32Array(n), service: new Uint32Array(n), trackingNumber: new Uint32Array(n) };
  const allocationsFrom = new Int32Array(n);
  const shipTo: Array<Address | null> = new Array(n);
  /** own allocations already written, by array: a later shipment with the same array refers to the first */
  const written = new Map<Allocation[][], number>();
  for (let i = 0; i < n; i++) {
    const s = records[i];
    text.externalOrderId[i] = out.single(s.externalOrderId);
    text.carrier[i] = out.shared(s.carrier);
    text.service[i] = out.shared(s.service);
    text.trackingNumber[i] = out.single(s.trackingNumber);
    shipTo[i] = s.shipTo;
    if (byNumber(reservations, s.reservationIndex)?.allocations === s.allocations) {
      allocationsFrom[i] = ITS_RESERVATIONS;
    } else {
      const first = written.get(s.allocations);
      if (first === undefined) {
        written.set(s.allocations, i);
        allocations.add(s.allocations);
      }
      allocationsFrom[i] = first ?? ITS_OWN;
    }
  }
  out.columns('shipments.text', n, SHIPMENT_TEXT, (columns) => copyAll(columns, text));
  out.copy('shipments.allocationsFrom', 'i32', allocationsFrom);
  return shipTo;
}

function readShipments(
  input: Reader,
  shipTo: ReadonlyArray<Address | null>,
  reservations: readonly StoredReservation[],
  allocations: AllocationsReader,
): StoredShipment[] {
  const n = input.length('shipments.index');
  const { index, reservationIndex, status, createdAt, updatedAt, version, seq, history: historyCount } = input.columns('shipments', n, SHIPMENT_COLUMNS);
  const text = input.columns('shipments.text', n, SHIPMENT_TEXT);
  const allocationsFrom = input.column('shipments.allocationsFrom', 'i32', n);
  const past = input.columns('history', total(historyCount), HISTORY_COLUMNS);
  if (shipTo.length !== n) throw new Error(`${shipTo.length} addresses for ${n} shipments`);

  const records: StoredShipment[] = new Array(n);
  for (let i = 0, h = 0; i < n; i++) {
    const history = new Array<StoredShipment['history'][number]>(historyCount[i]);
    for (let j = 0; j < history.length; j++, h++) {
      history[j] = { status: named(SHIPMENT_STATUSES, past.status[h], 'a shipment\'s past status'), at: past.at[h] };
    }
    const from = allocationsFrom[i];
    let shared: Allocation[][];
    if (from === ITS_RESERVATIONS) {
      const reservation = byNumber(reservations, reservationIndex[i]);
      if (reservation === undefined) throw new Error(`shipment ${index[i]} shares the allocations of reservation ${reservationIndex[i]}, which is not stored`);
      shared = reservation.allocations;
    } else if (from === ITS_OWN) {
      shared = allocations.next();
    } else {
      if (!(from >= 0 && from < i && allocationsFrom[from] === ITS_OWN)) throw new Error(`shipment ${index[i]} shares allocations with no earlier shipment`);
      shared = records[from].allocations;
    }
    const address = shipTo[i];
    if (address !== null && !isObject(address)) throw new Error('a shipment\'s address is not one');
    // the fields in the order WmsState.addShipment() makes them in
    records[i] = {
      index: index[i],
      id: shipmentIdOf(index[i]),
      reservationIndex: reservationIndex[i],
      reservationId: reservationIdOf(reservationIndex[i]),
      externalOrderId: input.string(text.externalOrderId[i], 'an external order id'),
      allocations: shared,
      status: named(SHIPMENT_STATUSES, status[i], 'a shipment\'s status'),
      trackingNumber: input.stringOrNull(text.trackingNumber[i], 'a tracking number'),
      history,
      createdAt: createdAt[i],
      updatedAt: updatedAt[i],
      version: version[i],
      seq: seq[i],
      carrier: input.stringOrNull(text.carrier[i], 'a carrier'),
      service: input.stringOrNull(text.service[i], 'a service'),
      shipTo: address,
    };
  }
  return records;
}

/** Copies each of `from` into the column of the same name. */
function copyAll(columns: Record<string, Column<ColumnType>>, from: Record<string, ArrayLike<number>>): void {
  for (const name of Object.keys(columns)) columns[name].set(from[name]);
}

/**
 * Allocations (Allocation[][]: per line, the warehouses its units come from) of a sequence of owners (every
 * reservation, then every shipment with allocations of its own), flattened: per owner its number of lines
 * (allocations.lines), per line its number of allocations (allocations.perLine), then a column per field.
 */
const ALLOCATION_COLUMNS = { skuIndex: 'u32', warehouseIndex: 'u8', quantity: 'f64' } as const;

class AllocationsWriter {
  private readonly owners: Array<readonly Allocation[][]> = [];

  add(allocations: readonly Allocation[][]): void {
    this.owners.push(allocations);
  }

  write(out: PayloadWriter): void {
    const owners = this.owners;
    let lineTotal = 0;
    let total = 0;
    for (const allocations of owners) {
      lineTotal += allocations.length;
      for (let l = 0; l < allocations.length; l++) total += allocations[l].length;
    }
    out.column('allocations.lines', 'u32', owners.length, (counts) => {
      for (let o = 0; o < owners.length; o++) counts[o] = owners[o].length;
    });
    out.column('allocations.perLine', 'u32', lineTotal, (counts) => {
      let l = 0;
      for (const allocations of owners) for (let j = 0; j < allocations.length; j++) counts[l++] = allocations[j].length;
    });
    out.columns('allocations', total, ALLOCATION_COLUMNS, ({ skuIndex, warehouseIndex, quantity }) => {
      let a = 0;
      for (const allocations of owners) {
        for (let j = 0; j < allocations.length; j++) {
          const line = allocations[j];
          for (let k = 0; k < line.length; k++, a++) {
            skuIndex[a] = line[k].skuIndex;
            warehouseIndex[a] = line[k].warehouseIndex;
            quantity[a] = line[k].quantity;
          }
        }
      }
    });
  }
}

class AllocationsReader {
  private readonly lines: Uint32Array;
  private readonly counts: Uint32Array;
  private readonly values: Columns<typeof ALLOCATION_COLUMNS>;
  private owner = 0;
  private line = 0;
  private allocation = 0;

  constructor(input: Reader, options: ShapingOptions) {
    this.lines = input.column('allocations.lines', 'u32');
    this.counts = input.column('allocations.perLine', 'u32', total(this.lines));
    const n = total(this.counts);
    this.values = input.columns('allocations', n, ALLOCATION_COLUMNS);
    // releasing or shipping writes to these cells
    const { skuIndex, warehouseIndex } = this.values;
    for (let a = 0; a < n; a++) {
      if (skuIndex[a] >= options.skuCount || warehouseIndex[a] >= options.warehouseCount) throw new Error('an allocation is outside the stock');
    }
  }

  /** The next owner's allocations. */
  next(): Allocation[][] {
    if (this.owner >= this.lines.length) throw new Error('fewer allocations than records');
    const { skuIndex, warehouseIndex, quantity } = this.values;
    const allocations = new Array<Allocation[]>(this.lines[this.owner++]);
    for (let l = 0; l < allocations.length; l++) {
      const line = new Array<Allocation>(this.counts[this.line++]);
      for (let j = 0; j < line.length; j++) {
        const a = this.allocation++;
        line[j] = { skuIndex: skuIndex[a], warehouseIndex: warehouseIndex[a], quantity: quantity[a] };
      }
      allocations[l] = line;
    }
    return allocations;
  }

  /** Throws when some were left over. */
  end(): void {
    if (this.owner !== this.lines.length) throw new Error('more allocations than records');
  }
}

// --- the document's shape (the parts' fromData() check their own consistency) --------------------------------

function upgradeFormat2(doc: Partial<Document>): void {
  const simulation = doc.simulation as Partial<StockSimulationData> | null | undefined;
  if (!isObject(simulation) || typeof simulation.changesPerSecond !== 'number') return;
  simulation.rate ??= describeChangeRate(simulation.changesPerSecond);
  simulation.paused ??= false;
  simulation.offset ??= 0;
}

function checkedDocument(doc: Partial<Document>, options: ShapingOptions): Document {
  if (typeof doc.stockPatch !== 'boolean') throw new Error('the stock is neither whole nor a patch');
  if (typeof doc.lastStamp !== 'number' || !Number.isFinite(doc.lastStamp)) throw new Error('lastStamp is not a time');
  for (const name of ['changes', 'reservations', 'shipments'] as const) expectObject(doc[name], name);
  if (!Array.isArray(doc.shipTo)) throw new Error('the addresses are missing');
  if (doc.expiry === undefined || (doc.expiry !== null) !== options.reservationTtlMs > 0) throw new Error('expiry queue present without a TTL, or missing with one');
  if (doc.expiry !== null) expectObject(doc.expiry, 'expiry');
  // a configured rate starts a simulation with the state; without one, an admin may have started one since (at
  // any rate: the simulation's own progress is checked by StockSimulation.fromData)
  if (doc.simulation === undefined || (doc.simulation === null && options.changeRatePerSecond > 0)) {
    throw new Error('simulation missing although a rate is configured');
  }
  if (doc.simulation !== null) expectObject(doc.simulation, 'simulation');
  return doc as Document;
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null;
}

function expectObject(value: unknown, name: string): asserts value is Record<string, any> {
  if (!isObject(value)) throw new Error(`${name} is missing`);
}
