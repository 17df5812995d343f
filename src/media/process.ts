/**
 * Running ffmpeg and ffprobe on untrusted files: argument arrays (no shell), no stdin, a deadline, a bound on what
 * they print, and a kill on every failure. A run settles only after its child has exited, so no decoder outlives the
 * call (and the caller can delete the input file safely).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { MediaError, trimDiagnostic } from './errors.js';
import type { MediaLimits } from './limits.js';

const require = createRequire(import.meta.url);
const FFMPEG: string = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const FFPROBE: string = (require('@ffprobe-installer/ffprobe') as { path: string }).path;

/**
 * Options before every input. ffmpeg may open only the local file named and pipes, whatever the file says (a
 * playlist or concat list naming http:// or /etc/passwd is refused at the protocol level, on top of the forced
 * demuxer); and no decoder allocates a picture over the pixel limit, not even ffprobe while it looks for a stream's
 * parameters (it decodes a frame of a PNG-in-Matroska to learn its pixel format).
 */
export function inputGuard(limits: MediaLimits): string[] {
  return ['-protocol_whitelist', 'file,pipe', '-max_pixels', String(limits.maxPixels)];
}

const COMMON = ['-hide_banner', '-loglevel', 'error'] as const;

export interface ToolRun {
  /** What is being decoded, for messages: "the video", "the audio track". */
  what: string;
  /** ms until the child is killed and the run fails with TIMEOUT. */
  timeoutMs: number;
  /** Each chunk of stdout; throw (a MediaError) to stop the child and fail the run with that error. */
  onStdout(chunk: Buffer): void;
  /**
   * Stop the child at its first error message instead of letting it decode the rest of a broken file (the run
   * fails anyway: a decoder that reports an error on exit 0 still fails, see classify).
   */
  stopOnError?: boolean;
}

const STDERR_KEEP = 8192;
/** Time to let the rest of an error message arrive before stopping the child. */
const ERROR_GRACE_MS = 50;

/**
 * ffmpeg's lines for a person: "[mov,mp4,m4a @ 0x55d0] moov atom not found" -> "mov: moov atom not found", and the
 * input's path (a private temp file) -> "input".
 */
export function readable(stderr: string): string {
  return stderr.replace(/\[([^\],@\s\]]+)[^\]]*?@ 0x[0-9a-f]+\]\s*/gi, '$1: ').replace(/file:[^\s;]*?:(?=\s|$)/g, 'input:');
}

/** Complaints about how we ran the tool, not about the file: our bug, never the uploader's problem. */
const USAGE = /Unrecognized option|Option not found|Error parsing options|Invalid argument.*option|No such filter/i;

/**
 * A decoder's complaint as the uploader's problem: truncation, references to other files, or plain corruption; a
 * plain Error when the complaint is about our own command line.
 */
export function classify(what: string, stderr: string): MediaError | Error {
  const detail = trimDiagnostic(readable(stderr));
  if (USAGE.test(stderr)) return new Error(`decoding ${what} failed on our command line: ${detail}`);
  const details = { decoder: detail };
  const size = /Picture size (\d+x\d+) exceeds specified max pixel count (\d+)/.exec(stderr);
  if (size) return new MediaError('TOO_MANY_PIXELS', `${what} is ${size[1]} pixels a frame, over the limit of ${size[2]} pixels`, details);
  if (/not on whitelist|Protocol not found|Invalid URL|external reference|Impossible to open/i.test(stderr)) {
    return new MediaError('UNSUPPORTED', `${what} refers to other files or URLs, which is not allowed (${detail})`, details);
  }
  if (/partial file|end of file|premature end|truncat|moov atom not found|unexpected eof|Packet corrupt.*EOF/i.test(stderr)) {
    return new MediaError('TRUNCATED', `${what} is truncated or incomplete (${detail})`, details);
  }
  return new MediaError('CORRUPT', `${what} is corrupt or not a valid file (${detail || 'the decoder failed'})`, details);
}

function runTool(bin: string, args: readonly string[], run: ToolRun): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false, windowsHide: true });
    let stderr = '';
    let failure: Error | null = null;
    let stopTimer: NodeJS.Timeout | null = null;
    const stop = (err: Error) => {
      failure ??= err;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const timer = setTimeout(() => {
      stop(new MediaError('TIMEOUT', `decoding ${run.what} took longer than ${run.timeoutMs} ms`, { timeoutMs: run.timeoutMs }));
    }, Math.max(1, run.timeoutMs));

    child.stdout.on('data', (chunk: Buffer) => {
      if (failure) return;
      try {
        run.onStdout(chunk);
      } catch (err) {
        stop(err as Error);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (stderr.length < STDERR_KEEP) stderr += text.slice(0, STDERR_KEEP - stderr.length);
      if (run.stopOnError && !stopTimer) stopTimer = setTimeout(() => stop(classify(run.what, stderr)), ERROR_GRACE_MS);
    });
    // A spawn failure (binary missing, out of processes) is ours, not the uploader's: a plain Error.
    child.on('error', (err) => stop(new Error(`${bin} could not run: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (stopTimer) clearTimeout(stopTimer);
      if (failure) return reject(failure);
      if (code !== 0 || signal) return reject(stderr ? classify(run.what, stderr) : new MediaError('CORRUPT', `${run.what} could not be decoded (${signal ?? `exit ${code}`})`));
      // Exit 0 with an error-level message: the decoder skipped damaged data. The file is corrupt; say so.
      if (stderr.trim()) return reject(classify(run.what, stderr));
      resolve();
    });
  });
}

/** Runs ffmpeg with the common options first; `args` start with the input options. */
export const runFfmpeg = (args: readonly string[], run: ToolRun) => runTool(FFMPEG, ['-nostdin', ...COMMON, ...args], run);

/** Runs ffprobe with the common options first; resolves its stdout (JSON). */
export async function runFfprobe(args: readonly string[], run: Omit<ToolRun, 'onStdout'> & { maxBytes?: number }): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  const maxBytes = run.maxBytes ?? 4 * 1024 * 1024;
  await runTool(FFPROBE, [...COMMON, ...args], {
    ...run,
    onStdout(chunk) {
      bytes += chunk.length;
      // Megabytes of probe output means thousands of streams or chapters: a hostile header.
      if (bytes > maxBytes) throw new MediaError('CORRUPT', `${run.what} declares an implausible number of streams or chapters`);
      chunks.push(chunk);
    },
  });
  return Buffer.concat(chunks).toString('utf8');
}

/** ms left before `deadline` (epoch ms) for the next child, or TIMEOUT when none is. */
export function timeLeft(deadline: number, what: string): number {
  const ms = Math.floor(deadline - Date.now());
  if (ms <= 0) throw new MediaError('TIMEOUT', `decoding ${what} took longer than allowed`);
  return ms;
}
