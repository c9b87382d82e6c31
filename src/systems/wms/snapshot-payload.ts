/**
 * The container of a WMS snapshot's payload (snapshot.ts says what goes in it, and why this shape): a JSON
 * document, then columns of numbers as raw typed-array bytes.
 *
 * Layout, in bytes from the start of the snapshot (the first `headerBytes` are the caller's header):
 *   headerBytes       uint32 LE  the document's length
 *   headerBytes + 4   the document: UTF-8 JSON, the caller's fields plus
 *                     `strings`: the strings the columns refer to by position (null stands for null),
 *                     `columns`: [name, type, number of values] of each column that follows, in order
 *   then              each column, at the next multiple of 8 bytes from the start (zeros in between), in the
 *                     host's byte order (little-endian on every platform Node supports in practice); nothing
 *                     after the last one
 *
 * Columns start at multiples of 8 so that a reader can take them as typed arrays over the snapshot's own memory,
 * without copying, and a writer can fill them in place: PayloadWriter plans the columns first (names, types,
 * lengths, and how to fill them), and only then allocates the snapshot and has them filled, so that every value
 * is written once, straight into the result. Fresh memory is not free (the first write to each page costs more
 * than the write itself), so no column is built on the side and copied in.
 */

export const COLUMN_TYPES = { f64: Float64Array, i32: Int32Array, u32: Uint32Array, u8: Uint8Array } as const;
export type ColumnType = keyof typeof COLUMN_TYPES;
export type Column<T extends ColumnType> = InstanceType<(typeof COLUMN_TYPES)[T]>;
/** Columns named by field: `{ index: 'f64', status: 'u8' }` describes `{ index: Float64Array, status: Uint8Array }`. */
export type ColumnTypes = Record<string, ColumnType>;
export type Columns<S extends ColumnTypes> = { [K in keyof S]: Column<S[K]> };

/** The fields the container adds to the caller's document. */
interface ContainerFields {
  strings: Array<string | null>;
  columns: Array<[string, ColumnType, number]>;
}

/** Where a column starts: the first multiple of 8 bytes (from the snapshot's start) at or after `offset`. */
const aligned = (offset: number): number => Math.ceil(offset / 8) * 8;

/** Columns planned together, of one length, and filled by one call (in one pass over the records). */
interface PlannedGroup {
  names: string[];
  types: ColumnType[];
  length: number;
  fill: (columns: Array<Column<ColumnType>>) => void;
}

export class PayloadWriter {
  private readonly groups: PlannedGroup[] = [];
  private readonly strings: Array<string | null> = [];
  private readonly stringRefs = new Map<string | null, number>();

  /** `headerBytes`: room left at the start for the caller's header. */
  constructor(private readonly headerBytes: number) {}

  /**
   * Plans the columns `${table}.${field}` for the fields of `types`, `length` values each; finish() calls `fill`
   * with them all, to write them in one pass.
   */
  columns<S extends ColumnTypes>(table: string, length: number, types: S, fill: (columns: Columns<S>) => void): void {
    const fields = Object.keys(types);
    this.groups.push({
      names: fields.map((field) => `${table}.${field}`),
      types: fields.map((field) => types[field]),
      length,
      fill: (columns) => fill(Object.fromEntries(fields.map((field, i) => [field, columns[i]])) as Columns<S>),
    });
  }

  /** Plans one column of `length` values; finish() calls `fill` with it. */
  column<T extends ColumnType>(name: string, type: T, length: number, fill: (values: Column<T>) => void): void {
    this.groups.push({ names: [name], types: [type], length, fill: ([values]) => fill(values as Column<T>) });
  }

  /** Plans a column holding `values` (which must not change until finish()). */
  copy(name: string, type: ColumnType, values: ArrayLike<number>): void {
    this.column(name, type, values.length, (column) => column.set(values));
  }

  /**
   * The reference of a string that recurs (a SKU, a line signature, a carrier): each one is listed once. Strings
   * are referred to while columns are planned, never while they are filled: the document, which lists them,
   * is written first.
   */
  shared(text: string | null): number {
    let ref = this.stringRefs.get(text);
    if (ref === undefined) {
      ref = this.strings.push(text) - 1;
      this.stringRefs.set(text, ref);
    }
    return ref;
  }

  /** The reference of a string that seldom recurs (an external order id): listed anew, without a lookup. */
  single(text: string | null): number {
    return this.strings.push(text) - 1;
  }

  /** The snapshot, its header left zero: the document, then the columns, filled now. */
  finish(document: object): Buffer {
    const columns = this.groups.flatMap(({ names, types, length }) => names.map((name, i): [string, ColumnType, number] => [name, types[i], length]));
    const json = Buffer.from(JSON.stringify({ ...document, strings: this.strings, columns } satisfies ContainerFields));
    let size = this.headerBytes + 4 + json.length;
    const offsets = columns.map(([, type, length]) => {
      const offset = aligned(size);
      size = offset + length * COLUMN_TYPES[type].BYTES_PER_ELEMENT;
      return offset;
    });
    // zeroed (the padding too), and at the start of its own memory, so that the offsets are aligned there too
    const snapshot = Buffer.from(new ArrayBuffer(size));
    snapshot.writeUInt32LE(json.length, this.headerBytes);
    json.copy(snapshot, this.headerBytes + 4);
    let next = 0;
    for (const { types, length, fill } of this.groups) {
      fill(types.map((type) => new COLUMN_TYPES[type](snapshot.buffer, offsets[next++], length)));
    }
    return snapshot;
  }
}

/** Reads what PayloadWriter wrote; throws (a plain message, for the caller to wrap) when it is not consistent. */
export class PayloadReader<D extends object> {
  /** the caller's fields, unchecked */
  readonly document: Partial<D>;
  private readonly strings: unknown[];
  private readonly directory = new Map<string, { type: ColumnType; offset: number; length: number }>();

  /** `snapshot`: a whole snapshot (its header checked), `headerBytes` long before the payload. */
  constructor(
    private readonly snapshot: Buffer,
    headerBytes: number,
  ) {
    const start = headerBytes + 4;
    if (snapshot.length < start) throw new Error('no document');
    const length = snapshot.readUInt32LE(headerBytes);
    if (start + length > snapshot.length) throw new Error(`the document runs past the payload (${length} bytes)`);
    const document: unknown = JSON.parse(snapshot.toString('utf8', start, start + length));
    if (typeof document !== 'object' || document === null) throw new Error('the document is not an object');
    const { strings, columns } = document as Partial<ContainerFields>;
    if (!Array.isArray(strings) || !Array.isArray(columns)) throw new Error('the document lists no strings or no columns');
    this.document = document as Partial<D>;
    this.strings = strings;
    let size = start + length;
    for (const entry of columns as unknown[]) {
      const [name, type, count] = Array.isArray(entry) ? entry : [];
      if (typeof name !== 'string' || !Object.hasOwn(COLUMN_TYPES, type) || !Number.isSafeInteger(count) || count < 0) {
        throw new Error('a column is listed wrongly');
      }
      const offset = aligned(size);
      this.directory.set(name, { type, offset, length: count });
      size = offset + count * COLUMN_TYPES[type as ColumnType].BYTES_PER_ELEMENT;
    }
    if (size !== snapshot.length) throw new Error(`the columns end at byte ${size} of ${snapshot.length}`);
  }

  /**
   * The column, checked for its type and, when given, its length: a view of the snapshot when it lies aligned in
   * memory (as a snapshot made by PayloadWriter or read from a file does), else a copy. Only for reading while
   * restoring: whatever the state keeps of a column must be copied out of it.
   */
  column<T extends ColumnType>(name: string, type: T, length?: number): Column<T> {
    const entry = this.directory.get(name);
    if (entry === undefined) throw new Error(`column ${name} is missing`);
    if (entry.type !== type) throw new Error(`column ${name} holds ${entry.type}, not ${type}`);
    if (length !== undefined && entry.length !== length) throw new Error(`column ${name} holds ${entry.length} values, not ${length}`);
    const Type = COLUMN_TYPES[type];
    const at = this.snapshot.byteOffset + entry.offset;
    if (at % Type.BYTES_PER_ELEMENT === 0) return new Type(this.snapshot.buffer as ArrayBuffer, at, entry.length) as Column<T>;
    const values = new Type(entry.length) as Column<T>;
    new Uint8Array(values.buffer).set(this.snapshot.subarray(entry.offset, entry.offset + values.byteLength));
    return values;
  }

  /** The columns `${table}.${field}` for the fields of `types` (see column()), `length` values each. */
  columns<S extends ColumnTypes>(table: string, length: number, types: S): Columns<S> {
    const columns: Record<string, Column<ColumnType>> = {};
    for (const field of Object.keys(types)) columns[field] = this.column(`${table}.${field}`, types[field], length);
    return columns as Columns<S>;
  }

  /** How many values a column holds. */
  length(name: string): number {
    const entry = this.directory.get(name);
    if (entry === undefined) throw new Error(`column ${name} is missing`);
    return entry.length;
  }

  /** The string a column refers to; `what` names it in the error when there is none there. */
  string(ref: number, what: string): string {
    const text = this.strings[ref];
    if (typeof text !== 'string') throw new Error(`${what} is not a string`);
    return text;
  }

  stringOrNull(ref: number, what: string): string | null {
    const text = this.strings[ref];
    if (text !== null && typeof text !== 'string') throw new Error(`${what} is not a string`);
    return text;
  }
}
