/** Typed errors of the FFM backbone: callers (CLI, GraphQL services) switch on `code`, never on the message. */

export type FfmErrorCode =
  /** A field name that the data or the dataset builder does not know (e.g. a context field that is not supported). */
  | 'UNKNOWN_FIELD'
  /** A signal name that is not in Dataset.signals. */
  | 'UNKNOWN_SIGNAL'
  /** No rows to train or evaluate on (after filtering by signal / media type). */
  | 'EMPTY_DATA'
  /** NaN or infinity in feature values, labels or timestamps. */
  | 'NON_FINITE'
  /** A label other than 0 or 1. */
  | 'BAD_LABEL'
  /** A feature or field index outside the declared range, or columns of inconsistent length. */
  | 'BAD_INDEX'
  /** A hyper-parameter outside its allowed range. */
  | 'BAD_PARAM'
  /** A training worker failed. */
  | 'WORKER_FAILED';

export class FfmError extends Error {
  override readonly name = 'FfmError';
  constructor(
    readonly code: FfmErrorCode,
    message: string,
  ) {
    super(message);
  }
}
