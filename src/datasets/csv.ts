/**
 * Streaming CSV reader (RFC 4180) that works on bytes: one reusable record buffer, no object or string per field unless
 * the caller asks for one. Quoted fields may hold the delimiter, doubled quotes and line breaks; CRLF and LF both end a
 * record; a UTF-8 byte-order mark is dropped; blank lines are skipped. Anything else that breaks the grammar (a quote
 * inside an unquoted field, text after a closing quote, an unterminated quote) is a DatasetError with file and line.
 */
import { DatasetError, openDatasetFile } from './errors.js';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

export interface CsvOptions {
  /** Field separator as one byte (default `,`; MovieLens 100k uses `\t` and `|`). */
  readonly delimiter: string;
  /** Honour RFC 4180 double-quote quoting (default true); off for formats where `"` is plain text. */
  readonly quoting: boolean;
  /** How field bytes become strings in CsvRecord.text (default utf8; ml-100k's u.item is latin1). */
  readonly encoding: 'utf8' | 'latin1';
}

export const DEFAULT_CSV_OPTIONS: Readonly<CsvOptions> = Object.freeze({ delimiter: ',', quoting: true, encoding: 'utf8' });

/** The current record: field i spans bytes[start(i), end(i)) with quotes already removed. Reused between records. */
export class CsvRecord {
  bytes: Buffer = Buffer.allocUnsafe(4096);
  ends = new Int32Array(16);
  count = 0;
  /** 1-based line where this record starts. */
  line = 0;

  constructor(
    readonly file: string,
    private readonly encoding: 'utf8' | 'latin1',
  ) {}

  start(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1];
  }

  end(i: number): number {
    return this.ends[i];
  }

  isEmpty(i: number): boolean {
    return this.start(i) === this.ends[i];
  }

  text(i: number): string {
    return this.bytes.toString(this.encoding, this.start(i), this.ends[i]);
  }

  /** The field as a decimal number (optional sign, digits, optional fraction or exponent); NaN if it is not one. */
  number(i: number): number {
    const b = this.bytes;
    let p = this.start(i);
    const e = this.ends[i];
    if (p === e) return NaN;
    let neg = false;
    if (b[p] === 0x2d) {
      neg = true;
      p++;
    }
    let v = 0;
    let digits = 0;
    for (; p < e; p++) {
      const d = b[p] - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      digits++;
    }
    if (p === e && digits > 0 && digits <= 15) return neg ? -v : v;
    const s = this.text(i).trim();
    return s === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s) ? NaN : Number(s);
  }

  /** Throws a DatasetError located at this record. */
  fail(reason: string): never {
    throw new DatasetError(this.file, this.line, reason);
  }
}

const START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;
const AFTER_CR = 4;

/** Push-style tokenizer: feed byte chunks of any size, get one callback per complete record. */
export class CsvTokenizer {
  readonly record: CsvRecord;
  private state = START;
  private len = 0;
  private lineNo = 1;
  private sawQuote = false;
  private first = true;
  private readonly delim: number;
  private readonly quoting: boolean;

  constructor(
    file: string,
    private readonly onRecord: (record: CsvRecord) => void,
    options: Partial<CsvOptions> = {},
  ) {
    const o = { ...DEFAULT_CSV_OPTIONS, ...options };
    if (Buffer.byteLength(o.delimiter) !== 1) throw new RangeError(`CSV delimiter must be one byte, got ${JSON.stringify(o.delimiter)}`);
    this.delim = o.delimiter.charCodeAt(0);
    this.quoting = o.quoting;
    this.record = new CsvRecord(file, o.encoding);
    this.record.line = 1;
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    if (this.first && n > 0) {
      this.first = false;
      if (n >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    }
    const delim = this.delim;
    const quoting = this.quoting;
    let state = this.state;
    let len = this.len;
    let bytes = this.record.bytes;
    while (i < n) {
      const c = chunk[i++];
      if (c === LF) this.lineNo++;
      switch (state) {
        case START:
        case UNQUOTED:
          if (c === delim) {
            this.len = len;
            this.endField();
            state = START;
            continue;
          }
          if (c === LF) {
            this.len = len;
            this.endRecord();
            len = 0;
            state = START;
            continue;
          }
          if (c === CR) {
            state = AFTER_CR;
            continue;
          }
          if (c === QUOTE && quoting) {
            if (state === START) {
              state = QUOTED;
              this.sawQuote = true;
              continue;
            }
            throw this.error('a quote inside an unquoted field (quote the whole field and double the quote)');
          }
          state = UNQUOTED;
          break;
        case QUOTED:
          if (c === QUOTE) {
            state = QUOTE_IN_QUOTED;
            continue;
          }
          break;
        case QUOTE_IN_QUOTED:
          if (c === QUOTE) {
            state = QUOTED;
            break;
          }
          if (c === delim) {
            this.len = len;
            this.endField();
            state = START;
            continue;
          }
          if (c === LF) {
            this.len = len;
            this.endRecord();
            len = 0;
            state = START;
            continue;
          }
          if (c === CR) {
            state = AFTER_CR;
            continue;
          }
          throw this.error(`unexpected character ${JSON.stringify(String.fromCharCode(c))} after a closing quote`);
        case AFTER_CR:
          if (c === LF) {
            this.len = len;
            this.endRecord();
            len = 0;
            state = START;
            continue;
          }
          // A lone CR is field content; re-read c as the next byte of an unquoted field.
          if (len >= bytes.length) bytes = this.grow(len);
          bytes[len++] = CR;
          state = UNQUOTED;
          i--;
          continue;
      }
      if (len >= bytes.length) bytes = this.grow(len);
      bytes[len++] = c;
    }
    this.state = state;
    this.len = len;
  }

  /** Call once after the last chunk: flushes a final record without a trailing newline. */
  finish(): void {
    if (this.state === QUOTED) {
      throw this.error('unterminated quoted field (missing closing quote)');
    }
    if (this.state !== START || this.len > 0 || this.record.count > 0) this.endRecord();
    this.state = START;
    this.len = 0;
  }

  /** Number of line breaks seen so far, plus one. */
  get line(): number {
    return this.lineNo;
  }

  private recordStart = 1;

  private error(reason: string): DatasetError {
    return new DatasetError(this.record.file, this.recordStart, reason);
  }

  private grow(len: number): Buffer {
    const bigger = Buffer.allocUnsafe(this.record.bytes.length * 2);
    this.record.bytes.copy(bigger, 0, 0, len);
    this.record.bytes = bigger;
    return bigger;
  }

  private endField(): void {
    const r = this.record;
    if (r.count >= r.ends.length) {
      const bigger = new Int32Array(r.ends.length * 2);
      bigger.set(r.ends);
      r.ends = bigger;
    }
    r.ends[r.count++] = this.len;
  }

  private endRecord(): void {
    this.endField();
    const r = this.record;
    r.line = this.recordStart;
    const blank = r.count === 1 && r.ends[0] === 0 && !this.sawQuote;
    if (!blank) this.onRecord(r);
    r.count = 0;
    this.len = 0;
    this.sawQuote = false;
    this.recordStart = this.lineNo;
  }
}

export interface ReadCsvOptions extends CsvOptions {
  /** Called after each chunk with bytes read so far and the file size (for progress bars). */
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Read size in bytes (default 4 MiB). */
  readonly chunkBytes?: number;
}

/** Reads a whole CSV file, calling onRecord for every record (the header included). Missing file -> DatasetError. */
export async function readCsvFile(path: string, onRecord: (record: CsvRecord) => void, options: Partial<ReadCsvOptions> = {}): Promise<void> {
  const handle = await openDatasetFile(path);
  try {
    const total = (await handle.stat()).size;
    const tokenizer = new CsvTokenizer(path, onRecord, options);
    const buf = Buffer.allocUnsafe(options.chunkBytes ?? 4 << 20);
    let done = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      tokenizer.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      done += bytesRead;
      options.onProgress?.(done, total);
    }
    tokenizer.finish();
  } finally {
    await handle.close();
  }
}

/** Maps header names to column indices; `required` names that are absent -> DatasetError at the header line. */
export function headerIndex(record: CsvRecord, required: readonly string[], optional: readonly string[] = []): Record<string, number> {
  const index: Record<string, number> = {};
  for (let i = 0; i < record.count; i++) {
    const name = record.text(i).trim();
    if (name in index) record.fail(`duplicate column "${name}" in the header`);
    index[name] = i;
  }
  const missing = required.filter((name) => !(name in index));
  if (missing.length) record.fail(`header lacks column(s) ${missing.join(', ')} (expected ${[...required, ...optional].join(',')})`);
  for (const name of optional) if (!(name in index)) index[name] = -1;
  return index;
}
