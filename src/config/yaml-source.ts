/**
 * YAML (and JSON, which is YAML) files whose validation errors must name the file, line and column: config
 * files and chaos profiles. Maps a path from a validator back to the line and column of that node in the text.
 *
 * Two parsers, for start-up time: js-yaml reads the text (fast, and what every valid file needs); the `yaml`
 * library, which keeps node positions but is four times slower on a cold start, is loaded and run only when
 * there is something to point at: a problem to report, a syntax error, or a caller that edits the document
 * (config ${VAR} substitution). Texts with anchors or aliases always take the `yaml` path, whose alias limit
 * stops an alias bomb.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { load as loadFast } from 'js-yaml';
import type { Document, LineCounter, Node } from 'yaml';

type YamlLibrary = typeof import('yaml');
let yamlLibrary: YamlLibrary | undefined;
/** the `yaml` library, loaded on first need (synchronously: parsing is synchronous) */
export function positionalYaml(): YamlLibrary {
  return (yamlLibrary ??= createRequire(import.meta.url)('yaml') as YamlLibrary);
}

/** anchors (&a) and aliases (*a) where YAML allows them: after a space, a flow bracket, a comma or a dash */
const ANCHOR_OR_ALIAS = /(^|[\s[{,])[&*][^\s,[\]{}]/m;

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

export class YamlSource {
  private document?: Document;
  private lines?: LineCounter;
  /** what js-yaml read, when it could */
  private readonly fast: unknown;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    let fast: unknown;
    if (!ANCHOR_OR_ALIAS.test(text)) {
      try {
        fast = loadFast(text) ?? null;
      } catch {
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
    const { LineCounter, parseDocument } = positionalYaml();
    const lines = new LineCounter();
    const doc = parseDocument(this.text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const problems = doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0]);
      return { file: this.file, line: pos.line, column: pos.col, path: '', message: e.message.split('\n')[0] };
    });
    if (problems.length) throw new SourceError(problems);
    this.document = doc;
    this.lines = lines;
    return doc;
  }

  static read(file: string): YamlSource {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SourceError([{ file, line: 1, column: 1, path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
    }
    return new YamlSource(file, text);
  }

  toJS(): unknown {
    return this.document ? this.document.toJS({ maxAliasCount: 100 }) : this.fast;
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
