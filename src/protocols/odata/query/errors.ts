/**
 * The one error the OData query parser throws. `position` is the 0-based character offset in the option's
 * (percent-decoded) text where the problem starts; the message always ends in "(at N)" so a client reading only
 * the message can find it. The HTTP layer turns it into a 400 in the OData version's error format.
 */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    /** The query option the text came from, e.g. `$filter`; '' for a bare literal. */
    readonly option: string,
    /** 0-based offset in the option's decoded text. */
    readonly position: number,
    /** What is wrong, without the option name or position. */
    readonly reason: string,
  ) {
    super(`${option ? `${option}: ` : ''}${reason} (at ${position})`);
  }
}
