/**
 * YAML (and JSON, which is YAML) files whose validation errors must name the file, line and column: config
 * files now, chaos profiles next. Parses with the `yaml` library keeping node positions, and maps a JSON-pointer
 * path from a schema validator back to the line and column of that node in the text.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

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
  readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    const problems = this.doc.errors.map((e) => {
      const pos = this.lines.linePos(e.pos[0]);
      return { file, line: pos.line, column: pos.col, path: '', message: e.message.split('\n')[0] };
    });
    if (problems.length) throw new SourceError(problems);
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
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  /**
   * A problem located at the node for `path` (tokens), or at its closest existing parent. `at: 'key'` points at
   * the key instead of its value (for keys that should not be there).
   */
  problemAt(path: Array<string | number>, message: string, at: 'key' | 'value' = 'value'): SourceProblem {
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
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line, column: pos.col, path: path.join('.'), message };
  }
}
