/** Reading profile problems in tests: where a problem is, counted by hand independently of the code under test. */
import type { SourceProblem } from '../../src/config/yaml-source.js';

/** line, column, path and message of each problem, in document order */
export const summary = (ps: SourceProblem[]) =>
  ps.map((p) => ({ line: p.line, column: p.column, path: p.path, message: p.message })).sort((a, b) => a.line - b.line || a.column - b.column);

/** 1-based line and column of the `nth` occurrence of `needle` in `text` */
export function at(text: string, needle: string, nth = 0): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i <= nth; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`${needle} not found`);
  }
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}
