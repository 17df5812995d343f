import type { ParseArgsConfig } from 'node:util';

/** Exit codes shared by every command (documented in the README); which error exits with which: src/cli/errors.ts. */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  BAD_INPUT: 3,
  NOT_FOUND: 4,
  CONFLICT: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Thrown by a command for an expected failure: main prints the message (no stack) and exits with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: ExitCode = ExitCode.FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * One CLI command. `run` gets the parsed flags and positionals and returns an exit code; commands are declared with
 * `defineCommand` (src/cli/errors.ts), which maps what `run` throws to a CliError with its exit code.
 */
export interface Command {
  /** Full text for `memer <command> --help`: usage line, then what each flag does. */
  help: string;
  options: Options;
  run(args: { values: Record<string, string | boolean | string[] | boolean[] | undefined>; positionals: string[] }): Promise<number>;
}
