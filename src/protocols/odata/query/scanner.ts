/**
 * A character cursor over one option's decoded text, shared by the option parsers. The parsers are scannerless
 * (they read characters, not tokens) because the ABNF's whitespace rules differ by place: RWS (required) around
 * `eq`/`and`/…, BWS (optional) inside parentheses and argument lists, none at all at the start or end of $filter or
 * around $select's commas.
 *
 * Written by hand rather than with an npm OData parser: neither one evaluated accepts the v4 filter Salesforce sends by default
 * or knows the v2 dialect (the evaluation table is in index.ts).
 */
import { MAX_OPTION_LENGTH } from './dialect.js';
import { QueryError } from './errors.js';

const IDENT_START = /[\p{L}\p{Nl}_]/u;
const IDENT_PART = /[\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]/u;
/** ABNF odataIdentifier: a leading character and at most 127 more. */
const MAX_IDENTIFIER = 128;

export function isIdentStart(ch: string | undefined): boolean {
  return ch !== undefined && IDENT_START.test(ch);
}
export function isIdentPart(ch: string | undefined): boolean {
  return ch !== undefined && IDENT_PART.test(ch);
}
export function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}
export function isWs(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t';
}

function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Refuses text that is too long or holds control characters (tab excepted), before any parsing. */
export function checkText(option: string, text: string, max = MAX_OPTION_LENGTH): void {
  if (text.length > max) {
    throw new QueryError(option, max, `the text is ${text.length} characters long; at most ${max} are accepted`);
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || (c >= 0x80 && c < 0xa0)) {
      throw new QueryError(option, i, `control character ${describeChar(text[i])} is not allowed`);
    }
  }
}

export class Cursor {
  pos = 0;
  constructor(
    readonly option: string,
    readonly src: string,
  ) {}

  get eof(): boolean {
    return this.pos >= this.src.length;
  }
  peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }
  /** Consumes spaces and tabs; returns how many. */
  ws(): number {
    const start = this.pos;
    while (isWs(this.src[this.pos])) this.pos++;
    return this.pos - start;
  }
  fail(reason: string, at = this.pos): never {
    throw new QueryError(this.option, at, reason);
  }
  /** What is at the cursor, for "expected X but found Y" messages. */
  found(at = this.pos): string {
    if (at >= this.src.length) return 'the end of the text';
    const word = /^[\p{L}\p{N}_$@.]+/u.exec(this.src.slice(at, at + 40));
    return word ? `'${word[0]}'` : `'${this.src[at]}'`;
  }
  expect(ch: string, what = `'${ch}'`): void {
    if (this.src[this.pos] !== ch) this.fail(`expected ${what} but found ${this.found()}`);
    this.pos++;
  }
  /** The identifier at the cursor without consuming it, or null. */
  peekIdentifier(at = this.pos): string | null {
    if (!isIdentStart(this.src[at])) return null;
    let end = at + 1;
    while (isIdentPart(this.src[end])) end++;
    return this.src.slice(at, end);
  }
  /** Reads an identifier (ABNF odataIdentifier) or fails with `expected`. */
  identifier(expected = 'a property name'): string {
    const id = this.peekIdentifier();
    if (id === null) this.fail(`expected ${expected} but found ${this.found()}`);
    if (id.length > MAX_IDENTIFIER) this.fail(`a name is at most ${MAX_IDENTIFIER} characters long`, this.pos + MAX_IDENTIFIER);
    this.pos += id.length;
    return id;
  }
  /** True (and consumed) when the text at the cursor is `word`, case-insensitively, not followed by a name character. */
  keyword(word: string, at = this.pos): boolean {
    if (this.src.slice(at, at + word.length).toLowerCase() !== word.toLowerCase()) return false;
    if (isIdentPart(this.src[at + word.length])) return false;
    this.pos = at + word.length;
    return true;
  }
}

/** Parses `text` as exactly one ABNF odataIdentifier (a property name). */
export function parseIdentifier(text: string, option = ''): string {
  checkText(option, text, 1024);
  const c: Cursor = new Cursor(option, text);
  const id = c.identifier('a name');
  if (!c.eof) c.fail(`unexpected ${c.found()} in a name`);
  return id;
}
