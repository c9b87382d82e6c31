/**
 * The drill's own failure: something that stops a drill before it can judge anything (a bad flag, a profile
 * with problems, a server that cannot be reached or refuses the profile). The command prints its lines and exits
 * 2, the code PRODUCT.md §1 keeps for "the drill did not run", apart from 1 ("it ran, an expectation failed").
 */
export class DrillError extends Error {
  /** one problem a line (a profile's every problem as file:line:column: path: message) */
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}
