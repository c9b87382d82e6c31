/**
 * $filter: a parsed expression (query/ast.ts) typed against an EntityType and compiled into a predicate
 * `(row) => boolean`. Typing happens once, before any row is read, so a wrong query is a 400 naming its culprit
 * (QueryTypeError with the node's position), never a silently empty or wrong result:
 *   - every property name exists (else the near names are listed; names.ts);
 *   - operands fit: strings with strings, numbers with numbers (any numeric literal type), booleans with booleans,
 *     Date/DateTimeOffset (and v2 datetime'…') with each other, GUIDs with GUIDs; functions get the argument
 *     types they need; `and`/`or`/`not` and the whole filter are Boolean.
 * Semantics (OData 4.01 Part 2 §5.1.1, the same in v2):
 *   - `x eq null` / `x ne null` test for null; every other comparison with a null operand is false (false, not
 *     unknown: the spec says the operator "returns false", so `not (CreditLimit lt 5)` keeps a null CreditLimit);
 *   - a function of null is null (`length(Email) eq null` is true for a null Email; `contains(Email,'a')` false);
 *   - `and`/`or`/`not` are three-valued (null and false = false, null or true = true, not null = null), and a row
 *     passes only when the whole filter is true;
 *   - strings compare ordinally and case-sensitively; contains/substringof (reversed arguments)/startswith/endswith
 *     are case-sensitive substring tests; tolower/toupper/trim/length (in code points) as in JavaScript;
 *   - year/month/day read a Date or DateTimeOffset as written (its own offset).
 * `contains(X,'a') eq true` (Salesforce's default v4 search filter) is a Boolean compared with true.
 *
 * Compiled into closures, specialised for the hot shapes (property op literal, string function of a property and
 * a literal), so evaluating a million rows costs little beyond reading them.
 */
import type { CallNode, ComparisonNode, ComparisonOperator, FilterExpr } from '../query/ast.js';
import type { ODataDialect } from '../query/dialect.js';
import type { EntityType } from '../model/model.js';
import { QueryTypeError } from './errors.js';
import { resolveProperty } from './names.js';
import { codePointLength, compareValues, datePart, instantOf, type Kind, kindOf, type Row, type RowValue } from './values.js';

export type RowPredicate = (row: Row) => boolean;

export interface FilterOptions {
  /** phrases the messages for the client's dialect (which literal form to write) */
  dialect?: ODataDialect;
  /** the option name in messages (default `$filter`) */
  option?: string;
}

/** A typed, compiled sub-expression. `get` returns the value in its kind's comparable form (see below). */
interface Typed {
  /** null: the null literal (fits any kind) */
  kind: Kind | null;
  /** the Edm type for messages */
  edm: string;
  /** how to name it in messages */
  label: string;
  pos: number;
  /** constant: its value, already in comparable form */
  constant: boolean;
  value?: RowValue;
  /** the plain property it reads (for specialisation), if any */
  property?: string;
  /**
   * string/guid: text; number: number; boolean: true/false/null (three-valued); instant: ms since the epoch.
   * `text` (instants only) is the value as written, for year/month/day.
   */
  get(row: Row): RowValue;
  text?(row: Row): string | null;
}

const KIND_LABEL: Record<Kind, string> = {
  string: 'Edm.String',
  number: 'a number (Edm.Int32, Edm.Int64, Edm.Decimal or Edm.Double)',
  boolean: 'Edm.Boolean',
  guid: 'Edm.Guid',
  instant: 'Edm.Date or Edm.DateTimeOffset',
};

/** Types and compiles `expr` against `type`; throws QueryTypeError. */
export function compileFilter(type: EntityType, expr: FilterExpr, options: FilterOptions = {}): RowPredicate {
  const c = new FilterCompiler(type, options.option ?? '$filter', options.dialect ?? 'v4');
  const t = c.compile(expr);
  if (t.kind !== 'boolean') {
    throw new QueryTypeError(c.option, t.pos, `${c.option} must be a Boolean expression, but ${t.label} is ${t.edm}`);
  }
  if (t.constant) {
    const v = t.value === true;
    return () => v;
  }
  const get = t.get;
  return (row) => get(row) === true;
}

class FilterCompiler {
  constructor(
    readonly type: EntityType,
    readonly option: string,
    readonly dialect: ODataDialect,
  ) {}

  fail(pos: number, reason: string): never {
    throw new QueryTypeError(this.option, pos, reason);
  }

  compile(e: FilterExpr): Typed {
    switch (e.kind) {
      case 'null':
        return { kind: null, edm: 'null', label: 'null', pos: e.pos, constant: true, value: null, get: () => null };
      case 'literal':
        return this.literal(e);
      case 'property':
        return this.property(e.name, e.pos);
      case 'compare':
        return this.comparison(e);
      case 'and':
      case 'or':
        return this.logical(e.kind, this.compile(e.left), this.compile(e.right), e.pos);
      case 'not':
        return this.not(this.compile(e.operand), e.pos);
      case 'call':
        return this.call(e);
    }
  }

  private literal(e: Extract<FilterExpr, { kind: 'literal' }>): Typed {
    const kind = kindOf(e.type)!;
    let value: RowValue = e.value;
    let label: string;
    if (e.type === 'Edm.String') label = `'${e.value.replace(/'/g, "''")}'`;
    else if ('text' in e) label = e.text;
    else if (e.type === 'Edm.DateTime') label = `datetime'${e.value}'`;
    else label = String(e.value);
    if (kind === 'instant') {
      value = instantOf(e.value as string);
      if (!Number.isFinite(value)) this.fail(e.pos, `the date/time ${label} is out of the range this server can compare`);
    }
    const text = kind === 'instant' ? (e.value as string) : null;
    const v = value;
    return { kind, edm: e.type, label, pos: e.pos, constant: true, value: v, get: () => v, text: text === null ? undefined : () => text };
  }

  private property(name: string, pos: number): Typed {
    const p = resolveProperty(this.type, name, this.option, pos);
    const kind = kindOf(p.type);
    if (!kind) this.fail(pos, `${name} is ${p.type}, which ${this.option} cannot use`);
    const base = { kind, edm: p.type, label: name, pos, constant: false, property: name };
    switch (kind) {
      case 'instant':
        return {
          ...base,
          get: (row) => {
            const v = row[name];
            return typeof v === 'string' ? instantOf(v) : null;
          },
          text: (row) => {
            const v = row[name];
            return typeof v === 'string' ? v : null;
          },
        };
      case 'guid':
        return {
          ...base,
          get: (row) => {
            const v = row[name];
            return typeof v === 'string' ? v.toLowerCase() : null;
          },
        };
      default:
        return { ...base, get: (row) => row[name] ?? null };
    }
  }

  /** A hint on how to write a literal of `kind` in this dialect. */
  private literalHint(kind: Kind): string {
    const v2 = this.dialect === 'v2';
    switch (kind) {
      case 'string':
        return "a string in single quotes ('…')";
      case 'number':
        return 'a number (42, 1.5)';
      case 'boolean':
        return 'true or false';
      case 'guid':
        return v2 ? "guid'01234567-89ab-cdef-0123-456789abcdef'" : 'an unquoted GUID (01234567-89ab-cdef-0123-456789abcdef)';
      case 'instant':
        return v2 ? "datetime'2026-01-05T00:00:00' or datetimeoffset'2026-01-05T00:00:00Z'" : 'an unquoted date (2026-01-05) or date-time (2026-01-05T10:00:00Z)';
    }
  }

  private comparison(e: ComparisonNode): Typed {
    const l = this.compile(e.left);
    const r = this.compile(e.right);
    if (l.kind !== null && r.kind !== null && l.kind !== r.kind) {
      // name the side that is "wrong": the literal against a property, else the right side
      const [fixed, odd] = r.constant && !l.constant ? [l, r] : l.constant && !r.constant ? [r, l] : [l, r];
      const expected = fixed.constant ? KIND_LABEL[fixed.kind!] : `${KIND_LABEL[fixed.kind!]}, e.g. ${this.literalHint(fixed.kind!)}`;
      this.fail(odd.pos, `cannot compare ${fixed.label} (${fixed.edm}) with ${odd.label} (${odd.edm}) using ${e.op}: expected ${expected}`);
    }
    const op = e.op;
    const label = `${l.label} ${op} ${r.label}`;
    const pred = comparePredicate(op, l, r);
    if (l.constant && r.constant) {
      const v = pred({});
      return { kind: 'boolean', edm: 'Edm.Boolean', label, pos: e.pos, constant: true, value: v, get: () => v };
    }
    return { kind: 'boolean', edm: 'Edm.Boolean', label, pos: e.pos, constant: false, get: pred };
  }

  private boolOperand(t: Typed, what: string): void {
    if (t.kind !== 'boolean' && t.kind !== null) this.fail(t.pos, `${what} needs a Boolean operand, but ${t.label} is ${t.edm}`);
  }

  private logical(kind: 'and' | 'or', l: Typed, r: Typed, pos: number): Typed {
    this.boolOperand(l, `'${kind}'`);
    this.boolOperand(r, `'${kind}'`);
    const a = l.get;
    const b = r.get;
    const get =
      kind === 'and'
        ? (row: Row): RowValue => {
            const x = a(row);
            if (x === false) return false;
            const y = b(row);
            if (y === false) return false;
            return x === true && y === true ? true : null;
          }
        : (row: Row): RowValue => {
            const x = a(row);
            if (x === true) return true;
            const y = b(row);
            if (y === true) return true;
            return x === false && y === false ? false : null;
          };
    return this.maybeConstant({ kind: 'boolean', edm: 'Edm.Boolean', label: `(… ${kind} …)`, pos, constant: l.constant && r.constant, get });
  }

  private not(t: Typed, pos: number): Typed {
    this.boolOperand(t, "'not'");
    const a = t.get;
    const get = (row: Row): RowValue => {
      const x = a(row);
      return x === null ? null : !x;
    };
    return this.maybeConstant({ kind: 'boolean', edm: 'Edm.Boolean', label: `not ${t.label}`, pos, constant: t.constant, get });
  }

  private maybeConstant(t: Typed): Typed {
    if (!t.constant) return t;
    const v = t.get({});
    return { ...t, value: v, get: () => v };
  }

  private arg(e: CallNode, i: number, want: Kind | 'date', t: Typed): void {
    const ordinal = e.args.length === 1 ? 'its argument' : `its ${i === 0 ? 'first' : 'second'} argument`;
    if (t.kind === null) return; // null in, null out
    if (want === 'date') {
      if (t.kind !== 'instant') this.fail(t.pos, `${e.name} needs an Edm.Date or Edm.DateTimeOffset as ${ordinal}, but ${t.label} is ${t.edm}`);
      return;
    }
    if (t.kind !== want) this.fail(t.pos, `${e.name} needs ${KIND_LABEL[want]} as ${ordinal}, but ${t.label} is ${t.edm}`);
  }

  private call(e: CallNode): Typed {
    const args = e.args.map((a) => this.compile(a));
    const label = `${e.name}(${args.map((a) => a.label).join(',')})`;
    const constant = args.every((a) => a.constant);
    const out = (kind: Kind, edm: string, get: (row: Row) => RowValue): Typed =>
      this.maybeConstant({ kind, edm, label, pos: e.pos, constant, get });
    switch (e.name) {
      case 'contains':
      case 'substringof':
      case 'startswith':
      case 'endswith': {
        args.forEach((a, i) => this.arg(e, i, 'string', a));
        // substringof(needle, haystack) is contains(haystack, needle) with the arguments reversed
        const [hay, needle] = e.name === 'substringof' ? [args[1], args[0]] : [args[0], args[1]];
        const test: (h: string, n: string) => boolean =
          e.name === 'startswith' ? (h, n) => h.startsWith(n) : e.name === 'endswith' ? (h, n) => h.endsWith(n) : (h, n) => h.includes(n);
        if (hay.property !== undefined && needle.constant) {
          const name = hay.property;
          const n = needle.value;
          if (n === null) return out('boolean', 'Edm.Boolean', () => null);
          const s = n as string;
          if (e.name === 'contains' || e.name === 'substringof') {
            return out('boolean', 'Edm.Boolean', (row) => {
              const h = row[name];
              return typeof h === 'string' ? h.includes(s) : null;
            });
          }
          return out('boolean', 'Edm.Boolean', (row) => {
            const h = row[name];
            return typeof h === 'string' ? test(h, s) : null;
          });
        }
        const h = hay.get;
        const n = needle.get;
        return out('boolean', 'Edm.Boolean', (row) => {
          const x = h(row);
          const y = n(row);
          return x === null || y === null ? null : test(x as string, y as string);
        });
      }
      case 'tolower':
      case 'toupper':
      case 'trim':
      case 'length': {
        this.arg(e, 0, 'string', args[0]);
        const a = args[0].get;
        const f: (s: string) => RowValue =
          e.name === 'tolower' ? (s) => s.toLowerCase() : e.name === 'toupper' ? (s) => s.toUpperCase() : e.name === 'trim' ? (s) => s.trim() : codePointLength;
        return out(e.name === 'length' ? 'number' : 'string', e.name === 'length' ? 'Edm.Int32' : 'Edm.String', (row) => {
          const x = a(row);
          return x === null ? null : f(x as string);
        });
      }
      case 'year':
      case 'month':
      case 'day': {
        this.arg(e, 0, 'date', args[0]);
        const part = e.name;
        const text = args[0].text;
        if (!text) return out('number', 'Edm.Int32', () => null); // year(null)
        return out('number', 'Edm.Int32', (row) => {
          const x = text(row);
          return x === null ? null : datePart(x, part);
        });
      }
    }
  }
}

const TESTS: Record<ComparisonOperator, (c: number) => boolean> = {
  eq: (c) => c === 0,
  ne: (c) => c !== 0,
  gt: (c) => c > 0,
  ge: (c) => c >= 0,
  lt: (c) => c < 0,
  le: (c) => c <= 0,
};

/** The comparison as a function of the row; null semantics as in the header. */
function comparePredicate(op: ComparisonOperator, l: Typed, r: Typed): (row: Row) => boolean {
  const test = TESTS[op];
  // property op literal on a plain string/number/boolean: read the row once, compare with a constant
  const direct = (t: Typed): boolean => t.property !== undefined && (t.kind === 'string' || t.kind === 'number' || t.kind === 'boolean');
  if ((direct(l) && r.constant) || (direct(r) && l.constant)) {
    const flip = !direct(l);
    const name = (flip ? r : l).property!;
    const c = (flip ? l : r).value as RowValue;
    if (c === null) {
      if (op === 'eq') return (row) => (row[name] ?? null) === null;
      if (op === 'ne') return (row) => (row[name] ?? null) !== null;
      return () => false;
    }
    if (op === 'eq' && !(typeof c === 'number' && Number.isNaN(c))) return (row) => row[name] === c;
    if (op === 'ne' && !(typeof c === 'number' && Number.isNaN(c))) return (row) => row[name] !== c;
    return flip
      ? (row) => {
          const v = row[name] ?? null;
          return v !== null && test(compareValues(c, v));
        }
      : (row) => {
          const v = row[name] ?? null;
          return v !== null && test(compareValues(v, c));
        };
  }
  const a = l.get;
  const b = r.get;
  if (op === 'eq' || op === 'ne') {
    const eq = op === 'eq';
    return (row) => {
      const x = a(row);
      const y = b(row);
      if (x === null || y === null) return (x === y) === eq;
      return (compareValues(x, y) === 0) === eq;
    };
  }
  return (row) => {
    const x = a(row);
    const y = b(row);
    return x !== null && y !== null && test(compareValues(x, y));
  };
}

/** A predicate true when all given ones are (undefined ones ignored); undefined when none is given. */
export function allOf(...predicates: (RowPredicate | undefined)[]): RowPredicate | undefined {
  const ps = predicates.filter((p): p is RowPredicate => p !== undefined);
  if (ps.length === 0) return undefined;
  if (ps.length === 1) return ps[0];
  return (row) => {
    for (const p of ps) if (!p(row)) return false;
    return true;
  };
}
