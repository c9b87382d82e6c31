/**
 * $filter: the boolean expression grammar Salesforce Connect sends (SALESFORCE.md §3), parsed by recursive descent
 * over the OASIS ABNF (commonExpr / boolCommonExpr), with the precedence of OData URL Conventions §5.1.1:
 * `not` > comparisons > `and` > `or`, binary operators left-associative, keywords case-insensitive.
 *
 * Supported: eq ne gt ge lt le, and or not, parentheses, literals (literals.ts), plain property names, and
 *   v4  contains startswith endswith tolower toupper length trim year month day
 *   v2  substringof startswith endswith tolower toupper length trim year month day
 * Everything else that is valid OData — arithmetic (add sub mul div divby mod, unary -), has, in, lambdas (any/all),
 * $it/$root/$this, aliases (@p), navigation/paths (A/B), qualified names and casts, other functions, JSON arrays and
 * objects — is refused with "… is not supported", never parsed into something else.
 *
 * Limits: MAX_OPTION_LENGTH characters and MAX_DEPTH nesting (dialect.ts), so hostile input ends in a QueryError,
 * not a stack overflow; `and`/`or`/comparison chains are read in loops, not by recursion.
 *
 * Written by hand rather than with an npm OData parser: neither one evaluated accepts the v4 filter Salesforce sends by default
 * or knows the v2 dialect (the evaluation table is in index.ts).
 */
import type { ComparisonOperator, FilterExpr, FunctionName } from './ast.js';
import { DIALECT_LABEL, MAX_DEPTH, type ODataDialect } from './dialect.js';
import { readLiteral } from './literals.js';
import { Cursor, checkText, isIdentPart, isWs } from './scanner.js';

interface FunctionSpec {
  arity: number;
  dialects: ODataDialect[];
  /** What to use instead, in the other dialect. */
  insteadOf?: string;
}

const FUNCTIONS: Record<FunctionName, FunctionSpec> = {
  contains: { arity: 2, dialects: ['v4'], insteadOf: 'substringof' },
  substringof: { arity: 2, dialects: ['v2'], insteadOf: 'contains' },
  startswith: { arity: 2, dialects: ['v2', 'v4'] },
  endswith: { arity: 2, dialects: ['v2', 'v4'] },
  tolower: { arity: 1, dialects: ['v2', 'v4'] },
  toupper: { arity: 1, dialects: ['v2', 'v4'] },
  length: { arity: 1, dialects: ['v2', 'v4'] },
  trim: { arity: 1, dialects: ['v2', 'v4'] },
  year: { arity: 1, dialects: ['v2', 'v4'] },
  month: { arity: 1, dialects: ['v2', 'v4'] },
  day: { arity: 1, dialects: ['v2', 'v4'] },
};

const COMPARISONS: ComparisonOperator[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];
const UNSUPPORTED_BINARY: Record<string, string> = {
  add: 'arithmetic operator',
  sub: 'arithmetic operator',
  mul: 'arithmetic operator',
  div: 'arithmetic operator',
  divby: 'arithmetic operator',
  mod: 'arithmetic operator',
  has: 'operator',
  in: 'operator',
};

function isKnownFunction(name: string): name is FunctionName {
  return Object.prototype.hasOwnProperty.call(FUNCTIONS, name);
}

/** Parses a $filter value (decoded) into an expression. `option` only labels error messages. */
export function parseFilter(text: string, dialect: ODataDialect, option = '$filter'): FilterExpr {
  checkText(option, text);
  const p = new FilterParser(new Cursor(option, text), dialect);
  if (text.length === 0) p.c.fail('expected an expression but the text is empty');
  if (isWs(text[0])) p.c.fail('the expression may not start with whitespace');
  const expr = p.or(0);
  p.end();
  return expr;
}

class FilterParser {
  constructor(
    readonly c: Cursor,
    readonly dialect: ODataDialect,
  ) {}

  end(): void {
    const c: Cursor = this.c;
    if (c.eof) return;
    const at = c.pos;
    if (c.ws() > 0) {
      if (c.eof) c.fail('the expression may not end with whitespace', at);
      this.refuseUnsupportedOperator();
      c.fail(`expected an operator (eq, ne, gt, ge, lt, le, and, or) but found ${c.found()}`);
    }
    if (c.peek() === ')') c.fail("unbalanced ')'");
    this.refuseTrailer();
    c.fail(`unexpected ${c.found()}`);
  }

  /** Looks past whitespace for `word` followed by whitespace; consumes both sides when found. */
  private operator(word: string): number | null {
    const c: Cursor = this.c;
    const save = c.pos;
    if (c.ws() === 0) return null;
    const at = c.pos;
    if (c.keyword(word) && isWs(c.peek())) {
      c.ws();
      return at;
    }
    c.pos = save;
    return null;
  }

  or(depth: number): FilterExpr {
    let left = this.and(depth);
    for (let at = this.operator('or'); at !== null; at = this.operator('or')) {
      left = { kind: 'or', left, right: this.and(depth), pos: at };
    }
    return left;
  }

  and(depth: number): FilterExpr {
    let left = this.comparison(depth);
    for (let at = this.operator('and'); at !== null; at = this.operator('and')) {
      left = { kind: 'and', left, right: this.comparison(depth), pos: at };
    }
    return left;
  }

  comparison(depth: number): FilterExpr {
    let left = this.unary(depth);
    for (;;) {
      let matched: ComparisonOperator | null = null;
      let at: number | null = null;
      for (const op of COMPARISONS) {
        at = this.operator(op);
        if (at !== null) {
          matched = op;
          break;
        }
      }
      if (matched === null || at === null) {
        this.refuseUnsupportedOperator();
        return left;
      }
      left = { kind: 'compare', op: matched, left, right: this.unary(depth), pos: at };
    }
  }

  /** After an operand: whitespace then add/sub/…/has/in is valid OData this server does not support. */
  private refuseUnsupportedOperator(): void {
    const c: Cursor = this.c;
    const save = c.pos;
    if (c.ws() === 0) return;
    const at = c.pos;
    const word = c.peekIdentifier();
    if (word !== null) {
      const what = UNSUPPORTED_BINARY[word.toLowerCase()];
      if (what && isWs(c.src[at + word.length])) c.fail(`the ${what} '${word}' is not supported`, at);
    }
    c.pos = save;
  }

  unary(depth: number): FilterExpr {
    const c: Cursor = this.c;
    if (depth >= MAX_DEPTH) c.fail(`the expression is nested too deeply (more than ${MAX_DEPTH} levels)`);
    const start = c.pos;
    // `not` needs whitespace after it (ABNF notExpr); `not(…)` is accepted too, as most servers do.
    if (c.keyword('not') && (isWs(c.peek()) || c.peek() === '(')) {
      c.ws();
      return { kind: 'not', operand: this.unary(depth + 1), pos: start };
    }
    c.pos = start; // "not" not followed by an operand is a property name
    return this.primary(depth);
  }

  primary(depth: number): FilterExpr {
    const c: Cursor = this.c;
    const start = c.pos;
    const ch = c.peek();
    if (ch === undefined) c.fail('expected an expression but found the end of the text');
    if (ch === '(') {
      c.pos++;
      c.ws();
      const inner = this.or(depth + 1);
      c.ws();
      if (c.peek() === ',') c.fail("lists '(a,b)' are only valid after 'in', which is not supported");
      if (c.peek() !== ')') {
        if (c.eof) c.fail("expected ')' to close the '(' but found the end of the text", start);
        this.refuseUnsupportedOperator();
        c.fail(`expected ')' or an operator but found ${c.found()}`);
      }
      c.pos++;
      this.refuseTrailer();
      return inner;
    }
    const lit = readLiteral(c, this.dialect);
    if (lit) {
      this.refuseTrailer();
      return lit;
    }
    if (ch === '-') c.fail('negation (unary -) is not supported');
    if (ch === '$') {
      const word = /^\$[A-Za-z]*/.exec(c.src.slice(start, start + 20))?.[0] ?? '$';
      c.fail(`${word} is not supported`);
    }
    if (ch === '@') c.fail('parameter aliases (@name) and annotations are not supported');
    if (ch === '[' || ch === '{') c.fail('JSON arrays and objects are not supported');
    if (ch === '"') c.fail("a string literal is written in single quotes ('…') in a $filter");
    if (ch === ')') c.fail(`expected an expression but found ')'`);
    const name = c.peekIdentifier();
    if (name === null) c.fail(`expected an expression but found ${c.found()}`);
    if (c.src[start + name.length] === '(') return this.call(name, depth);
    if (c.src[start + name.length] === '.') {
      const qualified = /^[\p{L}_][\p{L}\p{N}_]*(?:\.[\p{L}_][\p{L}\p{N}_]*)+/u.exec(c.src.slice(start, start + 512))?.[0] ?? name;
      if (c.src[start + qualified.length] === '(') c.fail(`the function ${qualified} is not supported`);
      c.fail(`qualified names (${qualified}) and casts are not supported`);
    }
    c.identifier();
    this.refuseTrailer();
    return { kind: 'property', name, pos: start };
  }

  /** Right after an operand: `/`, `.`, `(` and `'` would start constructs outside the supported grammar. */
  private refuseTrailer(): void {
    const c: Cursor = this.c;
    const ch = c.peek();
    if (ch === '/') {
      const next = c.src.slice(c.pos + 1, c.pos + 40);
      const lambda = /^(any|all)\(/i.exec(next);
      if (lambda) c.fail(`the lambda operator ${lambda[1]} is not supported`, c.pos + 1);
      if (next.startsWith('$count')) c.fail('/$count in expressions is not supported', c.pos + 1);
      c.fail('navigation and property paths (A/B) are not supported; only plain property names are');
    }
    if (ch === '.') c.fail('qualified names (Namespace.Name) and casts are not supported');
    if (ch === '(') c.fail('key access and function calls on an operand are not supported');
    if (ch === "'") c.fail('typed literals (prefix\'…\') other than the supported ones are not supported');
    if (isIdentPart(ch)) c.fail(`unexpected ${c.found()}`);
  }

  private call(name: string, depth: number): FilterExpr {
    const c: Cursor = this.c;
    const start = c.pos;
    const lower = name.toLowerCase();
    if (!isKnownFunction(lower)) {
      if (lower === 'any' || lower === 'all') c.fail(`the lambda operator ${lower} is not supported (and needs a collection path before it)`);
      const supported = (Object.keys(FUNCTIONS) as FunctionName[]).filter((f) => FUNCTIONS[f].dialects.includes(this.dialect));
      c.fail(`the function ${name} is not supported; ${DIALECT_LABEL[this.dialect]} filters may use ${supported.join(', ')}`);
    }
    const spec = FUNCTIONS[lower];
    if (!spec.dialects.includes(this.dialect)) {
      const from = spec.dialects.includes('v2') ? DIALECT_LABEL.v2 : DIALECT_LABEL.v4;
      c.fail(`the function ${lower} is ${from}; in ${DIALECT_LABEL[this.dialect]} use ${spec.insteadOf}`);
    }
    if (depth + 1 >= MAX_DEPTH) c.fail(`the expression is nested too deeply (more than ${MAX_DEPTH} levels)`);
    c.pos += name.length + 1;
    c.ws();
    const args: FilterExpr[] = [];
    if (c.peek() !== ')') {
      for (;;) {
        args.push(this.or(depth + 1));
        c.ws();
        if (c.peek() === ',') {
          c.pos++;
          c.ws();
          continue;
        }
        if (c.peek() === ')') break;
        if (c.eof) c.fail(`expected ')' to close ${lower}( but found the end of the text`, start);
        this.refuseUnsupportedOperator();
        c.fail(`expected ',' or ')' in ${lower}(…) but found ${c.found()}`);
      }
    }
    if (args.length !== spec.arity) {
      c.fail(`${lower} takes ${spec.arity} argument${spec.arity === 1 ? '' : 's'}, not ${args.length}`, start);
    }
    c.pos++;
    this.refuseTrailer();
    return { kind: 'call', name: lower, args, pos: start };
  }
}
