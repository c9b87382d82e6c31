/**
 * The other system query options Salesforce Connect sends (SALESFORCE.md §3): $orderby, $select, $top, $skip,
 * $count (v4), $inlinecount (v2) and $search (v4). Each takes the option's decoded value and returns its typed form
 * or throws a QueryError. What the ABNF allows beyond that (ordering by expressions, paths, nested $select options,
 * qualified names) is refused as not supported.
 *
 * Written by hand rather than with an npm OData parser: neither one evaluated accepts the v4 filter Salesforce sends by default
 * or knows the v2 dialect (the evaluation table is in index.ts).
 */
import type { OrderByItem, SearchExpr, SelectList } from './ast.js';
import { DIALECT_LABEL, MAX_DEPTH, type ODataDialect } from './dialect.js';
import { readQuoted } from './literals.js';
import { Cursor, checkText, isDigit, isIdentPart, isWs } from './scanner.js';

/** Refuses, after a property name, the path/cast/function/nested-option forms of the full grammar. */
function refuseAfterName(c: Cursor, what: string): void {
  const ch = c.peek();
  if (ch === '/') c.fail(`paths (A/B) in ${what} are not supported; only plain property names are`);
  if (ch === '.') c.fail(`qualified names (Namespace.Name) in ${what} are not supported`);
  if (ch === '(') c.fail(`options and parameters in parentheses in ${what} are not supported`);
}

/** `$orderby`: `Name [asc|desc]` items separated by commas (whitespace allowed only before asc/desc). */
export function parseOrderBy(text: string, option = '$orderby'): OrderByItem[] {
  checkText(option, text);
  const c: Cursor = new Cursor(option, text);
  const items: OrderByItem[] = [];
  for (;;) {
    const pos = c.pos;
    if (c.peek() === '$' || c.peek() === '@') c.fail(`${c.found()} is not supported in ${option}`);
    const property = c.identifier('a property name');
    refuseAfterName(c, option);
    let direction: 'asc' | 'desc' = 'asc';
    if (isWs(c.peek())) {
      c.ws();
      if (c.keyword('asc')) direction = 'asc';
      else if (c.keyword('desc')) direction = 'desc';
      else if (c.eof) c.fail(`${option} may not end with whitespace`);
      else {
        const word = c.peekIdentifier();
        if (word !== null && /^(eq|ne|gt|ge|lt|le|and|or|add|sub|mul|div|divby|mod|has|in)$/i.test(word)) {
          c.fail(`ordering by an expression is not supported; only by property names`);
        }
        c.fail(`expected 'asc' or 'desc' but found ${c.found()}`);
      }
    }
    items.push({ property, direction, pos });
    if (c.eof) return items;
    if (c.peek() !== ',') c.fail(`expected ',' or the end of ${option} but found ${c.found()}`);
    c.pos++;
  }
}

/** `$select`: `*` or property names separated by commas, no whitespace. */
export function parseSelect(text: string, option = '$select'): SelectList {
  checkText(option, text);
  const c: Cursor = new Cursor(option, text);
  if (text === '*') return '*';
  const items: { property: string; pos: number }[] = [];
  for (;;) {
    const pos = c.pos;
    if (c.peek() === '*') c.fail(`'*' may only stand alone in ${option}`);
    if (c.peek() === '$' || c.peek() === '@') c.fail(`${c.found()} is not supported in ${option}`);
    const property = c.identifier('a property name or *');
    refuseAfterName(c, option);
    items.push({ property, pos });
    if (c.eof) return items;
    if (c.peek() !== ',') c.fail(`expected ',' or the end of ${option} but found ${c.found()}`);
    c.pos++;
  }
}

/** `$top` / `$skip`: a non-negative whole number (digits only, no sign). */
export function parseNonNegativeInteger(text: string, option: string): number {
  checkText(option, text, 64);
  if (text.length === 0) throw new Cursor(option, text).fail('expected a non-negative whole number but the text is empty');
  for (let i = 0; i < text.length; i++) {
    if (!isDigit(text[i])) new Cursor(option, text).fail(`expected a non-negative whole number (digits only) but found '${text[i]}'`, i);
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n)) new Cursor(option, text).fail(`the number ${text} is too large`);
  return n;
}

export const parseTop = (text: string): number => parseNonNegativeInteger(text, '$top');
export const parseSkip = (text: string): number => parseNonNegativeInteger(text, '$skip');

/** v4 `$count`: true or false (any case). */
export function parseCount(text: string, option = '$count'): boolean {
  const lower = text.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  checkText(option, text, 64);
  return new Cursor(option, text).fail(`expected true or false but found '${text}'`, 0);
}

/** v2 `$inlinecount`: allpages (count) or none. */
export function parseInlineCount(text: string, option = '$inlinecount'): boolean {
  if (text === 'allpages') return true;
  if (text === 'none') return false;
  checkText(option, text, 64);
  return new Cursor(option, text).fail(`expected allpages or none but found '${text}'`, 0);
}

/**
 * v4 `$search` (ABNF search): words, "phrases", ( … ), NOT, AND, OR; juxtaposition means AND. Precedence
 * NOT > AND > OR (URL Conventions §5.1.7). AND/OR/NOT are operators only where an operator can stand
 * ("$search=AND" searches for the word AND); a value in single quotes is the 4.01 "incomplete expression", searched
 * for as one phrase.
 */
export function parseSearch(text: string, dialect: ODataDialect = 'v4', option = '$search'): SearchExpr {
  checkText(option, text);
  const c: Cursor = new Cursor(option, text);
  if (dialect === 'v2') c.fail(`$search is not part of ${DIALECT_LABEL.v2}; Salesforce sends doSearch= instead`, 0);
  c.ws(); // ABNF search: EQ BWS
  if (c.eof) c.fail('expected a search expression but the text is empty');
  if (c.peek() === "'") {
    const pos = c.pos;
    const phrase = readQuoted(c);
    if (!c.eof) c.fail(`unexpected ${c.found()} after the quoted search text`);
    if (phrase.length === 0) c.fail('the quoted search text is empty', pos);
    return { kind: 'term', text: phrase, phrase: true, pos };
  }
  const expr = new SearchParser(c).or(0);
  if (!c.eof) {
    if (c.peek() === ')') c.fail("unbalanced ')'");
    c.fail(`unexpected ${c.found()}`);
  }
  return expr;
}

class SearchParser {
  constructor(readonly c: Cursor) {}

  /** Can a search expression start at `at`? */
  private startsExpr(at: number): boolean {
    const ch = this.c.src[at];
    return ch !== undefined && ch !== ')' && !isWs(ch);
  }

  /** `RWS word RWS <expr>` at the cursor: consumes up to the expression and returns the word's position. */
  private binary(word: 'AND' | 'OR'): number | null {
    const c: Cursor = this.c;
    const save = c.pos;
    if (c.ws() === 0) return null;
    const at = c.pos;
    if (c.src.startsWith(word, at) && isWs(c.src[at + word.length])) {
      c.pos = at + word.length;
      c.ws();
      if (this.startsExpr(c.pos)) return at;
    }
    c.pos = save;
    return null;
  }

  or(depth: number): SearchExpr {
    let left = this.and(depth);
    for (let at = this.binary('OR'); at !== null; at = this.binary('OR')) {
      left = { kind: 'or', left, right: this.and(depth), pos: at };
    }
    return left;
  }

  and(depth: number): SearchExpr {
    const c: Cursor = this.c;
    let left = this.unary(depth);
    for (;;) {
      const save = c.pos;
      const explicit = this.binary('AND');
      if (explicit !== null) {
        left = { kind: 'and', left, right: this.unary(depth), pos: explicit };
        continue;
      }
      // Implicit AND: whitespace then an expression, unless that expression is an OR operator.
      if (c.ws() > 0 && this.startsExpr(c.pos)) {
        const at = c.pos;
        c.pos = save;
        if (this.binary('OR') !== null) {
          c.pos = save;
          return left;
        }
        c.pos = at;
        left = { kind: 'and', left, right: this.unary(depth), pos: at };
        continue;
      }
      c.pos = save;
      return left;
    }
  }

  unary(depth: number): SearchExpr {
    const c: Cursor = this.c;
    if (depth >= MAX_DEPTH) c.fail(`the search expression is nested too deeply (more than ${MAX_DEPTH} levels)`);
    const start = c.pos;
    if (c.src.startsWith('NOT', start) && isWs(c.src[start + 3])) {
      c.pos = start + 3;
      c.ws();
      if (this.startsExpr(c.pos)) return { kind: 'not', operand: this.unary(depth + 1), pos: start };
      c.pos = start;
    }
    return this.primary(depth);
  }

  primary(depth: number): SearchExpr {
    const c: Cursor = this.c;
    const start = c.pos;
    const ch = c.peek();
    if (ch === undefined) c.fail('expected a search term but found the end of the text');
    if (ch === '(') {
      c.pos++;
      c.ws();
      const inner = this.or(depth + 1);
      c.ws();
      if (c.peek() !== ')') {
        if (c.eof) c.fail("expected ')' to close the '(' but found the end of the text", start);
        c.fail(`expected ')' but found ${c.found()}`);
      }
      c.pos++;
      this.afterTerm();
      return inner;
    }
    if (ch === '"') {
      c.pos++;
      const close = c.src.indexOf('"', c.pos);
      if (close < 0) c.fail('unterminated phrase: no closing double quote', start);
      const phrase = c.src.slice(c.pos, close);
      if (phrase.length === 0) c.fail('the phrase is empty', start);
      if (phrase.includes('\t')) c.fail('a phrase may not contain a tab', c.pos + phrase.indexOf('\t'));
      c.pos = close + 1;
      this.afterTerm();
      return { kind: 'term', text: phrase, phrase: true, pos: start };
    }
    if (ch === ')') c.fail("expected a search term but found ')'");
    if (ch === "'") c.fail("a search word may not start with a single quote (quote the whole value: '…')");
    let end = start;
    while (end < c.src.length && !isWs(c.src[end]) && !'()"'.includes(c.src[end])) end++;
    c.pos = end;
    this.afterTerm();
    return { kind: 'term', text: c.src.slice(start, end), phrase: false, pos: start };
  }

  /** A term or a parenthesis must be followed by whitespace, ')' or the end. */
  private afterTerm(): void {
    const c: Cursor = this.c;
    const ch = c.peek();
    if (ch === undefined || isWs(ch) || ch === ')') return;
    if (ch === '"' || ch === '(' || isIdentPart(ch) || ch) c.fail(`expected whitespace before ${c.found()}`);
  }
}
