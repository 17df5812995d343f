/** Typed errors of the offline evaluation: the CLI maps them to exit codes and prints the message as is. */

export type EvaluationErrorCode =
  /** The protocol scored no rows: the message says why per group and what to try. */
  | 'NO_ROWS'
  /** A given held-out split names posts the dataset does not have, or leaves nothing to train on. */
  | 'BAD_SPLIT';

export class EvaluationError extends Error {
  override readonly name = 'EvaluationError';
  constructor(
    readonly code: EvaluationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** NO_ROWS: the reasons a protocol collected for scoring nothing, and what to try. */
export function noRowsError(protocol: string, reasons: readonly string[], hints: readonly string[]): EvaluationError {
  const why = reasons.length ? reasons.map((r) => `  - ${r}`).join('\n') : '  - no signal and media type had rows to score';
  return new EvaluationError('NO_ROWS', `the ${protocol} protocol scored no rows:\n${why}\nTry: ${hints.join('; ')}`);
}

/** Throws NO_ROWS when a protocol produced no result rows. */
export function requireRows(protocol: string, results: readonly unknown[], reasons: readonly string[], hints: readonly string[]): void {
  if (results.length === 0) throw noRowsError(protocol, reasons, hints);
}
