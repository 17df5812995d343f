/** Flag values shared by the commands: parsed or refused with a usage error (exit code 2) that names the flag. */
import { CliError, ExitCode } from './command.js';

/** An integer of at least `min`; undefined when the flag is absent. */
export function intAtLeast(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min) throw new CliError(`--${flag} expects an integer >= ${min}, got "${text}"`, ExitCode.USAGE);
  return n;
}

/** One of `allowed`; undefined when the flag is absent. */
export function choice<T extends string>(flag: string, text: string | undefined, allowed: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!allowed.includes(text as T)) throw new CliError(`--${flag} expects one of ${allowed.join(', ')}, got "${text}"`, ExitCode.USAGE);
  return text as T;
}
