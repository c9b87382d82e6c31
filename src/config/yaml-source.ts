/**
 * YAML (and JSON, which is YAML) read from people we do not control: config files, chaos profiles (files and
 * PUT /__admin/chaos bodies) and OpenAPI contracts. Two jobs: map a path from a validator back to the line and
 * column of that node, and refuse documents that would cost more to read than any real one does.
 *
 * Two parsers, for start-up time: js-yaml reads the text (fast, and what every valid file needs); the `yaml`
 * library, which keeps node positions but is four times slower on a cold start, is loaded and run only when
 * there is something to point at: a problem to report, a syntax error, or a caller that edits the document
 * (config ${VAR} substitution). Texts with anchors or aliases always take the `yaml` path.
 *
 * Bounds (YamlLimits), and which mechanism enforces each, because neither library covers all of them:
 * - bytes: checked before any parsing (and before reading a file), so a huge file is never even loaded.
 * - nesting depth: js-yaml's own `maxDepth`; the `yaml` library has none and recurses when composing (a stack
 *   overflow at ~900 block levels, and its CST parser slows down sharply on deep flow collections), so we drive
 *   its CST parser lexeme by lexeme and stop as soon as its stack of open collections is deeper than the limit.
 * - aliases: the `yaml` library's own `maxAliasCount` while converting to JS. js-yaml has no alias limit; it
 *   shares one object per anchor, so the cost shows only when a consumer walks the result, which the node count
 *   below bounds. Merge keys (`<<: *a`) are on in both (js-yaml's default), bounded by js-yaml's
 *   `maxTotalMergeKeys` and, in `yaml`, by `maxAliasCount` (every merge resolves an alias).
 * - total nodes (keys and values): counted by us, neither library counts them. Roughly while the `yaml` library
 *   lexes (so an oversized text is dropped before it is composed), then exactly on the JS value, counting shared
 *   (aliased) objects once per place they appear: that is the size every later walk of the value (validation,
 *   JSON.stringify) pays. The count stops at the limit, so it costs at most the limit.
 * The positional parse stays the slow part (a few µs per byte): within 1 MiB it is bounded, not cheap.
 * Every refusal is a SourceError naming the limit, so callers answer 400 (admin API) or exit 2 (command line).
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { load as loadFast, YAMLException, type LoadOptions } from 'js-yaml';
import type { CST, Document, LineCounter, Node } from 'yaml';

type YamlLibrary = typeof import('yaml');
let yamlLibrary: YamlLibrary | undefined;
/** the `yaml` library, loaded on first need (synchronously: parsing is synchronous) */
export function positionalYaml(): YamlLibrary {
  return (yamlLibrary ??= createRequire(import.meta.url)('yaml') as YamlLibrary);
}

/** anchors (&a) and aliases (*a) where YAML allows them: after a space, a flow bracket, a comma or a dash */
const ANCHOR_OR_ALIAS = /(^|[\s[{,])[&*][^\s,[\]{}]/m;

export interface YamlLimits {
  /** the text's length in bytes (UTF-8) */
  maxBytes: number;
  /** keys and values, aliased ones counted once per place they appear */
  maxNodes: number;
  /** collections inside collections */
  maxDepth: number;
  /** the `yaml` library's maxAliasCount */
  maxAliasCount: number;
}

/**
 * Config files and chaos profiles. 1 MiB is the admin API's body limit and far above any real profile (the
 * 1,000-rule maximum fits in ~150 KB); 100,000 nodes leave room for those 1,000 rules at their most detailed;
 * 64 levels is four times the deepest real profile (a status fault's body nested in a rule in a phase).
 */
export const DOCUMENT_LIMITS: YamlLimits = { maxBytes: 1024 * 1024, maxNodes: 100_000, maxDepth: 64, maxAliasCount: 100 };

/**
 * OpenAPI contracts: large public API descriptions run to ~10 MB and a few hundred thousand nodes; the depth
 * matches the js-yaml inside @readme/openapi-parser (100), which would refuse anything deeper anyway.
 */
export const CONTRACT_LIMITS: YamlLimits = { maxBytes: 32 * 1024 * 1024, maxNodes: 2_000_000, maxDepth: 100, maxAliasCount: 10_000 };

export interface SourceProblem {
  file: string;
  line: number;
  column: number;
  /** the data path, e.g. systems.wms.skus */
  path: string;
  message: string;
}

export function formatProblem(p: SourceProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path ? p.path + ': ' : ''}${p.message}`;
}

export class SourceError extends Error {
  constructor(readonly problems: SourceProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** js-yaml's own bounds (4.3+); @types/js-yaml does not list them yet */
type BoundedLoadOptions = LoadOptions & { maxDepth: number; maxTotalMergeKeys: number };
/** js-yaml's default, kept: it is far above what merge keys in a real document copy */
const MAX_MERGED_KEYS = 10_000;

const count = (n: number) => n.toLocaleString('en-US');
const tooManyNodes = (limits: YamlLimits) => `the document expands to more than ${count(limits.maxNodes)} nodes (the limit); are aliases multiplying it?`;
const tooDeep = (limits: YamlLimits) => `the document nests deeper than ${limits.maxDepth} levels (the limit)`;
const tooManyAliases = (limits: YamlLimits) => `the aliases expand too much: more than ${count(limits.maxAliasCount)} alias resolutions (the limit)`;

function problem(file: string, line: number, column: number, message: string, path = ''): SourceProblem {
  return { file, line, column, path, message };
}

/** Refuses a text longer than the limit, before anything parses it. */
function checkSize(file: string, text: string, limits: YamlLimits): void {
  // text.length ≤ bytes ≤ 3 × text.length for UTF-16 text: count bytes only when it could matter
  if (text.length * 3 <= limits.maxBytes) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) throw new SourceError([problem(file, 1, 1, `the document is ${count(bytes)} bytes, more than the limit of ${count(limits.maxBytes)}`)]);
}

/** Reads a file as UTF-8 text, refusing it by its size before reading it. */
export function readBoundedText(file: string, limits: YamlLimits): string {
  try {
    const size = statSync(file).size;
    if (size > limits.maxBytes) throw new SourceError([problem(file, 1, 1, `the file is ${count(size)} bytes, more than the limit of ${count(limits.maxBytes)}`)]);
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError([problem(file, 1, 1, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)]);
  }
}

/** A value and where it sits, for the node count: its parent chain gives the data path of a refusal. */
interface Frame {
  value: unknown;
  depth: number;
  key: string | number | undefined;
  parent: Frame | undefined;
}

function pathOf(frame: Frame): Array<string | number> {
  const path: Array<string | number> = [];
  for (let f: Frame | undefined = frame; f && f.key !== undefined; f = f.parent) path.unshift(f.key);
  return path;
}

/**
 * Counts the nodes of a parsed value (aliased objects once per appearance) and its nesting, without recursion;
 * stops at the first limit crossed and says where.
 */
export function measureValue(value: unknown, limits: YamlLimits): { message: string; path: Array<string | number> } | undefined {
  let nodes = 1;
  const stack: Frame[] = [{ value, depth: 0, key: undefined, parent: undefined }];
  while (stack.length) {
    const frame = stack.pop()!;
    const v = frame.value;
    if (v === null || typeof v !== 'object') continue;
    const array = Array.isArray(v);
    // Dates (timestamps), byte arrays (!!binary) and the like are leaves
    if (!array && Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) continue;
    if (frame.depth + 1 > limits.maxDepth) return { message: tooDeep(limits), path: pathOf(frame) };
    const keys = array ? undefined : Object.keys(v);
    // each element is a node; each key and its value are two
    nodes += array ? (v as unknown[]).length : keys!.length * 2;
    if (nodes > limits.maxNodes) return { message: tooManyNodes(limits), path: pathOf(frame) };
    const depth = frame.depth + 1;
    if (array) (v as unknown[]).forEach((item, i) => stack.push({ value: item, depth, key: i, parent: frame }));
    else for (const key of keys!) stack.push({ value: (v as Record<string, unknown>)[key], depth, key, parent: frame });
  }
  return undefined;
}

/**
 * js-yaml within the limits: the text's size, js-yaml's own depth and merge-key limits, then our node count on
 * the result. Throws SourceError for a limit; lets js-yaml's YAMLException through for a syntax error.
 */
export function loadBoundedYaml(file: string, text: string, limits: YamlLimits): unknown {
  checkSize(file, text, limits);
  let value: unknown;
  try {
    // js-yaml counts the scalar inside the deepest collection as a level too; measureValue counts collections
    const options: BoundedLoadOptions = { maxDepth: limits.maxDepth + 1, maxTotalMergeKeys: MAX_MERGED_KEYS };
    value = loadFast(text, options);
  } catch (err) {
    if (err instanceof YAMLException && /maxDepth|maxTotalMergeKeys/.test(err.reason)) {
      const message = err.reason.includes('maxDepth') ? tooDeep(limits) : `merge keys (<<) copy more than ${count(MAX_MERGED_KEYS)} keys (the limit)`;
      throw new SourceError([problem(file, err.mark.line + 1, err.mark.column + 1, message)]);
    }
    throw err;
  }
  const over = measureValue(value, limits);
  if (over) throw new SourceError([problem(file, 1, 1, over.message, over.path.join('.'))]);
  return value ?? null;
}

export class YamlSource {
  private document?: Document;
  private lines?: LineCounter;
  /** what js-yaml read, when it could */
  private readonly fast: unknown;

  constructor(
    readonly file: string,
    readonly text: string,
    readonly limits: YamlLimits = DOCUMENT_LIMITS,
  ) {
    checkSize(file, text, limits);
    let fast: unknown;
    if (!ANCHOR_OR_ALIAS.test(text)) {
      try {
        fast = loadBoundedYaml(file, text, limits);
      } catch (err) {
        if (err instanceof SourceError) throw err;
        // a syntax error: the positional parser below reports it with its line
      }
    }
    this.fast = fast;
    if (fast === undefined) this.parseWithPositions();
  }

  /** the positional parse, for callers that walk or edit the document */
  get doc(): Document {
    return this.parseWithPositions();
  }

  private parseWithPositions(): Document {
    if (this.document) return this.document;
    const { Composer, LineCounter } = positionalYaml();
    const lines = new LineCounter();
    this.lines = lines;
    const tokens = this.boundedTokens(lines);
    // merge keys on, as js-yaml has them: a profile reads the same whichever parser read it
    const composer = new Composer({ prettyErrors: false, uniqueKeys: true, merge: true });
    const docs = [...composer.compose(tokens, true, this.text.length)];
    const doc = docs[0];
    const errors = doc.errors.map((e) => ({ offset: e.pos[0], message: e.message.split('\n')[0] }));
    if (docs.length > 1) errors.push({ offset: docs[1].range[0], message: 'a second document (---): send one document' });
    if (errors.length) {
      const at = (offset: number) => lines.linePos(offset);
      const problems = errors.map((e) => problem(this.file, at(e.offset).line, at(e.offset).col, e.message));
      throw new SourceError(unquotedBraces(this.file, this.text, problems) ?? problems);
    }
    this.document = doc;
    return doc;
  }

  /**
   * The `yaml` library's CST, read lexeme by lexeme so that a document nesting deeper than the limit, or with
   * more nodes, is refused as soon as the parser gets there: its parser is slow enough per node (and on deep
   * flow collections) that reading all of an oversized text first would itself take seconds.
   */
  private boundedTokens(lines: LineCounter): CST.Token[] {
    const { CST: cst, Lexer, Parser } = positionalYaml();
    const parser = new Parser(lines.addNewLine);
    lines.addNewLine(0);
    const tokens: CST.Token[] = [];
    const refuse = (message: string): never => {
      const pos = lines.linePos(parser.offset);
      throw new SourceError([problem(this.file, pos.line, pos.col, message)]);
    };
    // scalars (keys and values), aliases and flow collections: block collections have no lexeme of their own,
    // so this undercounts a little and never refuses what the exact count on the JS value would accept
    let nodes = 0;
    for (const lexeme of new Lexer().lex(this.text)) {
      const first = lexeme[0];
      if (lexeme === cst.SCALAR || first === '"' || first === "'" || first === '*' || lexeme === '{' || lexeme === '[') {
        if (++nodes > this.limits.maxNodes) refuse(tooManyNodes(this.limits));
      }
      for (const token of parser.next(lexeme)) tokens.push(token);
      // the stack holds the document, the open collections and at most a couple of pending items or scalars
      if (parser.stack.length > this.limits.maxDepth && collectionsOpen(parser.stack) > this.limits.maxDepth) refuse(tooDeep(this.limits));
    }
    for (const token of parser.end()) tokens.push(token);
    return tokens;
  }

  static read(file: string, limits: YamlLimits = DOCUMENT_LIMITS): YamlSource {
    return new YamlSource(file, readBoundedText(file, limits), limits);
  }

  toJS(): unknown {
    if (!this.document) return this.fast;
    let value: unknown;
    try {
      value = this.document.toJS({ maxAliasCount: this.limits.maxAliasCount });
    } catch (err) {
      // the library throws ReferenceError for its alias limit and for aliases to unknown anchors, and Error for
      // merging something that is not a map: all of them are the document's fault, not the server's
      const message = err instanceof Error ? err.message : String(err);
      if (/Excessive alias count/.test(message)) throw new SourceError([problem(this.file, 1, 1, tooManyAliases(this.limits))]);
      const unresolved = /^Unresolved alias.*: (.*)$/.exec(message)?.[1];
      if (unresolved !== undefined) throw new SourceError([this.aliasProblem(unresolved)]);
      throw new SourceError([problem(this.file, 1, 1, message)]);
    }
    const over = measureValue(value, this.limits);
    if (over) throw new SourceError([this.problemAt(over.path, over.message)]);
    return value ?? null;
  }

  /** `*name` used with no `&name` before it, pointed at */
  private aliasProblem(name: string): SourceProblem {
    const { isAlias, visit } = positionalYaml();
    let offset = 0;
    visit(this.doc, {
      Alias(_key, node) {
        if (!isAlias(node) || node.source !== name) return undefined;
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    const pos = this.lines!.linePos(offset);
    return problem(this.file, pos.line, pos.col, `*${name} refers to no anchor: write &${name} on a node before it`);
  }

  /**
   * A problem located at the node for `path` (tokens), or at its closest existing parent. `at: 'key'` points at
   * the key instead of its value (for keys that should not be there).
   */
  problemAt(path: Array<string | number>, message: string, at: 'key' | 'value' = 'value'): SourceProblem {
    const { isMap, isScalar, isSeq } = positionalYaml();
    this.parseWithPositions();
    let node: Node | undefined;
    if (at === 'key' && path.length) {
      const parent = path.length > 1 ? this.doc.getIn(path.slice(0, -1), true) : this.doc.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((it) => isScalar(it.key) && String(it.key.value) === String(path[path.length - 1]));
        if (pair && isScalar(pair.key)) node = pair.key as Node;
      }
    }
    for (let n = path.length; n >= 0 && !node; n--) {
      const found = n > 0 ? this.doc.getIn(path.slice(0, n), true) : this.doc.contents;
      if (found && (isMap(found) || isSeq(found) || isScalar(found))) node = found as Node;
    }
    const offset = node?.range?.[0] ?? 0;
    const pos = this.lines!.linePos(offset);
    return { file: this.file, line: pos.line, column: pos.col, path: path.join('.'), message };
  }
}

function collectionsOpen(stack: CST.Token[]): number {
  let n = 0;
  for (const t of stack) if (t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection') n++;
  return n;
}

/** `{name}`: a path parameter as OpenAPI and our `match.path` write it */
const BRACED = String.raw`\{[A-Za-z_][\w.-]*\}`;
/** a plain scalar with a path parameter in it, where YAML reads the braces as a flow mapping */
const BRACED_SCALAR = new RegExp(String.raw`(?:[^\s,[\]{}'"#]|${BRACED})*${BRACED}(?:[^\s,[\]{}'"]|${BRACED})*`, 'g');

/**
 * `match: { path: /wms/v1/inventory/{sku} }` is the most natural thing to write and breaks the parse with a dozen
 * errors that say nothing useful: inside a flow collection, `{` starts a mapping. When a failed parse has such a
 * scalar on (or just before) a line with an error, one problem per such line replaces them all.
 */
function unquotedBraces(file: string, text: string, errors: SourceProblem[]): SourceProblem[] | undefined {
  const lines = text.split(/\r?\n/);
  const candidates = [...new Set(errors.flatMap((e) => [e.line - 1, e.line]))].filter((n) => n >= 1).sort((a, b) => a - b);
  const found: SourceProblem[] = [];
  for (const n of candidates) {
    const line = lines[n - 1] ?? '';
    for (const m of line.matchAll(BRACED_SCALAR)) {
      const start = m.index;
      const before = line.slice(0, start);
      // it must start a scalar (after a separator), and sit inside a flow collection opened earlier on the line
      if (start > 0 && !/[\s[{,:]$/.test(before)) continue;
      if (flowDepth(before) <= 0) continue;
      const key = /([A-Za-z_][\w-]*)\s*:\s*$/.exec(before)?.[1];
      const value = m[0];
      const quoted = `'${value}'`;
      const message = key
        ? `quote the ${key}: ${key}: ${quoted} — braces start a flow mapping in YAML`
        : `quote it: ${quoted} — braces start a flow mapping in YAML`;
      found.push(problem(file, n, start + 1, message));
      break;
    }
  }
  return found.length ? found : undefined;
}

/** flow collections still open at the end of `s` (quoted text and `{name}` parameters skipped) */
function flowDepth(s: string): number {
  const bare = s.replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, '').replace(new RegExp(BRACED, 'g'), '');
  let depth = 0;
  for (const ch of bare) {
    if (ch === '{' || ch === '[') depth++;
    else if ((ch === '}' || ch === ']') && depth > 0) depth--;
  }
  return depth;
}
