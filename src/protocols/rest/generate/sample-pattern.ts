/**
 * Strings that match a JSON Schema `pattern`, for generated data. faker.helpers.fromRegExp covers only a sliver of
 * the syntax contracts use (no `^`/`$`, no `\d`, no groups or alternation: `^[A-Z]{2}\d{4}$` comes back as
 * `^KS\dddd$`), and randexp, the usual library, would be one more dependency drawing from its own random source.
 * So this is a small generator of its own for the regular subset of ECMAScript patterns: literals, escapes
 * (`\d \w \s` and their negations, `\xHH`, `\uHHHH`), classes with ranges and negation, `.`, groups (capturing,
 * `(?:`, named), alternation, and every quantifier. Lookarounds, backreferences and `\p{…}` are not regular or not
 * worth it: parsing throws, and the caller falls back (fromRegExp, then plain text) and checks every candidate with
 * `new RegExp` anyway, so an approximation here can never put a non-matching string into a response.
 *
 * Randomness comes only from the `pick(n)` the caller passes (seeded faker), so the output is deterministic.
 * Unbounded quantifiers repeat at most 3 more times than their minimum unless the caller stretches them (to meet a
 * minLength), and output is cut at MAX_OUTPUT.
 */

/** a random integer in [0, n) */
export type Pick = (n: number) => number;

type Node =
  | { kind: 'chars'; ranges: Array<[number, number]> }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; options: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number; open: boolean }
  | { kind: 'empty' };

/** longest pattern parsed; longer ones are left to the fallbacks */
const MAX_PATTERN = 2000;
/** longest string produced */
const MAX_OUTPUT = 10_000;
/** nodes visited while generating one string: `(?:){1000}{1000}{1000}` produces nothing, ever so slowly */
const MAX_STEPS = 200_000;
/** extra repetitions an open-ended quantifier (`*`, `+`, `{n,}`) gets at most */
const OPEN_EXTRA = 3;

const PRINTABLE: [number, number] = [0x20, 0x7e];
const DIGIT: Array<[number, number]> = [[0x30, 0x39]];
const WORD: Array<[number, number]> = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const SPACE: Array<[number, number]> = [[0x20, 0x20]];

/**
 * How often open-ended quantifiers repeat: at least `floor` times (or their own minimum), plus up to `extra`. The
 * caller varies it between tries to meet a schema's minLength/maxLength, which the pattern alone does not know.
 */
export interface Stretch {
  floor: number;
  extra: number;
}

/** A string matching `pattern`, or throws when the pattern uses syntax outside the supported subset. */
export function stringFromPattern(pattern: string, pick: Pick, stretch: Stretch = { floor: 0, extra: OPEN_EXTRA }): string {
  if (pattern.length > MAX_PATTERN) throw new Error('pattern too long to generate from');
  const parser = new PatternParser(pattern);
  const tree = parser.parse();
  const out: string[] = [];
  emit(tree, pick, out, stretch, { steps: 0 });
  return out.join('').slice(0, MAX_OUTPUT);
}

function emit(node: Node, pick: Pick, out: string[], stretch: Stretch, budget: { steps: number }): void {
  if (out.length >= MAX_OUTPUT) return;
  if (++budget.steps > MAX_STEPS) throw new Error('pattern takes too long to generate from');
  switch (node.kind) {
    case 'empty':
      return;
    case 'chars': {
      const total = node.ranges.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
      if (total === 0) throw new Error('a character class that matches nothing');
      let at = pick(total);
      for (const [lo, hi] of node.ranges) {
        if (at <= hi - lo) {
          out.push(String.fromCodePoint(lo + at));
          return;
        }
        at -= hi - lo + 1;
      }
      return;
    }
    case 'seq':
      for (const item of node.items) emit(item, pick, out, stretch, budget);
      return;
    case 'alt':
      emit(node.options[pick(node.options.length)], pick, out, stretch, budget);
      return;
    case 'repeat': {
      const least = node.open ? Math.max(node.min, Math.min(stretch.floor, MAX_OUTPUT)) : node.min;
      const times = least + pick((node.open ? Math.min(stretch.extra, MAX_OUTPUT) : node.max - node.min) + 1);
      for (let i = 0; i < times && out.length < MAX_OUTPUT; i++) emit(node.node, pick, out, stretch, budget);
      return;
    }
  }
}

class PatternParser {
  private at = 0;

  constructor(private readonly source: string) {}

  parse(): Node {
    const node = this.alternation();
    if (this.at < this.source.length) throw new Error(`unexpected ${this.source[this.at]}`);
    return node;
  }

  private alternation(): Node {
    const options = [this.sequence()];
    while (this.source[this.at] === '|') {
      this.at++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0] : { kind: 'alt', options };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.at < this.source.length && this.source[this.at] !== '|' && this.source[this.at] !== ')') {
      const atom = this.atom();
      items.push(this.quantified(atom));
    }
    return { kind: 'seq', items };
  }

  private quantified(node: Node): Node {
    const c = this.source[this.at];
    let min: number;
    let max: number;
    let open = false;
    if (c === '*' || c === '+' || c === '?') {
      this.at++;
      min = c === '+' ? 1 : 0;
      max = c === '?' ? 1 : min + OPEN_EXTRA;
      open = c !== '?';
    } else if (c === '{' && /^\{\d+(,\d*)?\}/.test(this.source.slice(this.at))) {
      const [text, low, rest] = /^\{(\d+)(,\d*)?\}/.exec(this.source.slice(this.at))!;
      this.at += text.length;
      min = Math.min(Number(low), MAX_OUTPUT);
      max = rest === undefined ? min : rest === ',' ? min + OPEN_EXTRA : Math.min(Number(rest.slice(1)), MAX_OUTPUT);
      open = rest === ',';
      if (max < min) throw new Error('quantifier range out of order');
    } else return node;
    if (this.source[this.at] === '?') this.at++; // lazy: the same strings match
    return { kind: 'repeat', node, min, max, open };
  }

  private atom(): Node {
    const c = this.source[this.at++];
    switch (c) {
      case '^':
      case '$':
        return { kind: 'empty' };
      case '.':
        return { kind: 'chars', ranges: [PRINTABLE] };
      case '(': {
        if (this.source[this.at] === '?') {
          const head = this.source.slice(this.at, this.at + 3);
          if (head.startsWith('?:')) this.at += 2;
          else if (head.startsWith('?<') && head !== '?<=' && head !== '?<!') this.at = this.source.indexOf('>', this.at) + 1 || this.fail('unclosed group name');
          else this.fail('lookarounds are not generated');
        }
        const inner = this.alternation();
        if (this.source[this.at++] !== ')') this.fail('unclosed group');
        return inner;
      }
      case '[':
        return this.characterClass();
      case '\\':
        return { kind: 'chars', ranges: this.escape(false) };
      case '*':
      case '+':
      case '?':
      case '{':
        return this.fail(`nothing to repeat before ${c}`);
      case '}':
      case ']':
        // with the unicode flag, which ajv compiles patterns with, a lone bracket is a syntax error
        return this.fail(`a lone ${c}`);
      default: {
        const code = this.source.codePointAt(this.at - 1)!;
        if (code > 0xffff) this.at++;
        return { kind: 'chars', ranges: [[code, code]] };
      }
    }
  }

  private characterClass(): Node {
    let negated = false;
    if (this.source[this.at] === '^') {
      negated = true;
      this.at++;
    }
    const ranges: Array<[number, number]> = [];
    // in an ECMAScript pattern `]` always closes a class, even first (`[]` matches nothing)
    while (this.at < this.source.length && this.source[this.at] !== ']') {
      let lo: Array<[number, number]>;
      if (this.source[this.at] === '\\') {
        this.at++;
        lo = this.escape(true);
      } else {
        const code = this.source.codePointAt(this.at)!;
        this.at += code > 0xffff ? 2 : 1;
        lo = [[code, code]];
      }
      // a range a-z (but not a trailing '-', and not from a class escape like \d)
      if (this.source[this.at] === '-' && this.source[this.at + 1] !== ']' && this.at + 1 < this.source.length && lo.length === 1 && lo[0][0] === lo[0][1]) {
        this.at++;
        let hi: Array<[number, number]>;
        if (this.source[this.at] === '\\') {
          this.at++;
          hi = this.escape(true);
        } else {
          const code = this.source.codePointAt(this.at)!;
          this.at += code > 0xffff ? 2 : 1;
          hi = [[code, code]];
        }
        if (hi.length !== 1 || hi[0][0] !== hi[0][1] || hi[0][0] < lo[0][0]) this.fail('bad range in a class');
        ranges.push([lo[0][0], hi[0][0]]);
      } else ranges.push(...lo);
    }
    if (this.source[this.at++] !== ']') this.fail('unclosed class');
    return { kind: 'chars', ranges: negated ? complement(ranges) : ranges };
  }

  /** the characters an escape stands for (after the backslash) */
  private escape(inClass: boolean): Array<[number, number]> {
    const c = this.source[this.at++];
    switch (c) {
      case 'd':
        return DIGIT;
      case 'D':
        return complement(DIGIT);
      case 'w':
        return WORD;
      case 'W':
        return complement(WORD);
      case 's':
        return SPACE;
      case 'S':
        return complement(SPACE);
      case 'n':
        return one(10);
      case 'r':
        return one(13);
      case 't':
        return one(9);
      case 'f':
        return one(12);
      case 'v':
        return one(11);
      case '0':
        return one(0);
      case 'b':
        if (inClass) return one(8);
        return this.fail('word boundaries are not generated');
      case 'x': {
        const hex = /^[0-9a-fA-F]{2}/.exec(this.source.slice(this.at));
        if (!hex) return this.fail('bad \\x escape');
        this.at += 2;
        return one(parseInt(hex[0], 16));
      }
      case 'u': {
        const hex = /^(?:[0-9a-fA-F]{4}|\{[0-9a-fA-F]{1,6}\})/.exec(this.source.slice(this.at));
        if (!hex) return this.fail('bad \\u escape');
        this.at += hex[0].length;
        return one(parseInt(hex[0].replace(/[{}]/g, ''), 16));
      }
      case undefined:
        return this.fail('pattern ends in a backslash');
      default:
        if (/[1-9pPkBc]/.test(c)) return this.fail(`\\${c} is not generated`);
        return one(c.codePointAt(0)!);
    }
  }

  private fail(why: string): never {
    throw new Error(`${why} (at ${this.at} of the pattern)`);
  }
}

function one(code: number): Array<[number, number]> {
  return [[code, code]];
}

/** the printable ASCII characters not in `ranges` (what a negated class or \D, \W, \S generates from) */
function complement(ranges: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let next = PRINTABLE[0];
  for (const [lo, hi] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (lo > next) out.push([next, Math.min(lo - 1, PRINTABLE[1])]);
    next = Math.max(next, hi + 1);
    if (next > PRINTABLE[1]) break;
  }
  if (next <= PRINTABLE[1]) out.push([next, PRINTABLE[1]]);
  return out;
}
