/**
 * The CLI's exit codes, from one mapping of the error types. Commands throw what their layer throws (AppError from the
 * services, DatasetError from the dataset layer, EvaluationError and FfmError from the ML core, ConfigError, ...) or a
 * CliError for their own flag checks; `defineCommand` turns each into a CliError with the code below, so the same
 * failure exits with the same code in every command. Each table is a Record over the error's codes: a new code does
 * not compile until it has an exit code here. An error of no type below is a bug: it keeps its stack (exit 1).
 */
import { BenchArgError } from '../bench/harness.js';
import { ConfigError } from '../config/config.js';
import { DatasetError, type DatasetErrorCode } from '../datasets/errors.js';
import { AppError, ErrorCode } from '../errors.js';
import { EvaluationError, type EvaluationErrorCode } from '../ml/evaluation/errors.js';
import { FfmError, type FfmErrorCode } from '../ml/ffm/errors.js';
import { CliError, ExitCode, type Command } from './command.js';

/** null: not an expected failure (a bug); it is rethrown with its stack. */
type Mapping<K extends string> = Readonly<Record<K, ExitCode | null>>;

/** The services' codes (the same ones GraphQL clients see as `extensions.code`). */
export const APP_ERROR_EXIT: Mapping<ErrorCode> = {
  [ErrorCode.BAD_USER_INPUT]: ExitCode.BAD_INPUT,
  [ErrorCode.NOT_FOUND]: ExitCode.NOT_FOUND,
  [ErrorCode.CONFLICT]: ExitCode.CONFLICT,
  [ErrorCode.UNAUTHENTICATED]: ExitCode.FAILURE,
  [ErrorCode.FORBIDDEN]: ExitCode.FAILURE,
  [ErrorCode.MODEL_UNAVAILABLE]: ExitCode.FAILURE,
  [ErrorCode.QUERY_TOO_COMPLEX]: ExitCode.FAILURE,
  [ErrorCode.RATE_LIMITED]: ExitCode.FAILURE,
  [ErrorCode.NOT_READY]: ExitCode.FAILURE,
  [ErrorCode.PERSISTED_QUERY_NOT_IN_LIST]: ExitCode.FAILURE,
  [ErrorCode.INTERNAL_SERVER_ERROR]: ExitCode.FAILURE,
};

/** A dataset folder or file: malformed (the message names file:line) or missing. */
export const DATASET_ERROR_EXIT: Mapping<DatasetErrorCode> = {
  MALFORMED: ExitCode.BAD_INPUT,
  NOT_FOUND: ExitCode.NOT_FOUND,
};

/** The offline evaluation: the data leaves nothing to score, or the given split does not fit it. */
export const EVALUATION_ERROR_EXIT: Mapping<EvaluationErrorCode> = {
  NO_ROWS: ExitCode.BAD_INPUT,
  BAD_SPLIT: ExitCode.BAD_INPUT,
};

/** The FFM backbone: a bad option or name is a usage error; no rows is the data's; the rest are bugs. */
export const FFM_ERROR_EXIT: Mapping<FfmErrorCode> = {
  BAD_PARAM: ExitCode.USAGE,
  UNKNOWN_SIGNAL: ExitCode.USAGE,
  UNKNOWN_FIELD: ExitCode.USAGE,
  EMPTY_DATA: ExitCode.BAD_INPUT,
  NON_FINITE: null,
  BAD_LABEL: null,
  BAD_INDEX: null,
  WORKER_FAILED: null,
};

/** The exit code of an error, or null for a bug. */
export function exitCodeOf(err: unknown): ExitCode | null {
  if (err instanceof CliError) return err.code;
  if (err instanceof AppError) return APP_ERROR_EXIT[err.code];
  if (err instanceof DatasetError) return DATASET_ERROR_EXIT[err.code];
  if (err instanceof EvaluationError) return EVALUATION_ERROR_EXIT[err.code];
  if (err instanceof FfmError) return FFM_ERROR_EXIT[err.code];
  // A setting, a benchmark's --set, or an option the ML core or the simulator refuses (they throw RangeError).
  if (err instanceof ConfigError || err instanceof BenchArgError || err instanceof RangeError) return ExitCode.USAGE;
  // A path named on the command line that is not there (e.g. --held-out-split FILE, --json DIR/OUT).
  if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT' && 'syscall' in err) return ExitCode.NOT_FOUND;
  return null;
}

/** `err` as the CliError main prints (message, no stack) and exits with; a bug is returned as it is. */
export function asCliError(err: unknown): unknown {
  if (err instanceof CliError) return err;
  const code = exitCodeOf(err);
  return code === null ? err : new CliError((err as Error).message, code);
}

/** A command whose failures leave `run` as CliErrors with the codes above (main and direct callers alike). */
export function defineCommand<C extends Command>(command: C): C {
  const run = command.run;
  command.run = async function (args) {
    try {
      return await run.call(this, args);
    } catch (err) {
      throw asCliError(err);
    }
  };
  return command;
}
