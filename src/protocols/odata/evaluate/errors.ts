/**
 * The errors of evaluating a parsed query against the model: a name the entity type does not have, an operand of
 * the wrong type, a $skiptoken that is not ours or not for this request. They are client errors: the HTTP layer
 * turns each into a 400 in the OData version's error format, as it does the parser's QueryError. Kept apart from
 * QueryError (the text did not parse) so a caller can tell "malformed" from "well-formed but wrong for this set".
 */

/** A $filter/$orderby/$select/$search that parsed but does not fit the entity type. Message ends in "(at N)". */
export class QueryTypeError extends Error {
  override readonly name = 'QueryTypeError';
  constructor(
    /** the query option, e.g. `$filter` */
    readonly option: string,
    /** the 0-based offset in the option's decoded text of the AST node at fault */
    readonly position: number,
    /** what is wrong, without the option name or position */
    readonly reason: string,
  ) {
    super(`${option}: ${reason} (at ${position})`);
  }
}

/** A $skiptoken refused: malformed, tampered with, too large, or issued for a request with other options. */
export class SkipTokenError extends Error {
  override readonly name = 'SkipTokenError';
  readonly option = '$skiptoken';
  /** always 0: a token is opaque, there is no useful position inside it */
  readonly position = 0;
  constructor(readonly reason: string) {
    super(`$skiptoken: ${reason}`);
  }
}
