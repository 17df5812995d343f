/**
 * Buffered CSV writer: fields go into one 1 MiB buffer that is flushed to the file descriptor when full, so writing
 * 10M rows costs no string concatenation per row. Text fields are quoted only when RFC 4180 requires it.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const NEEDS_QUOTES = /[",\r\n]/;

export class CsvWriter {
  private readonly fd: number;
  private buf = Buffer.allocUnsafe(1 << 20);
  private pos = 0;
  private atRowStart = true;
  /** Data rows and the header, i.e. the number of records written. */
  rows = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  /** Writes a header or data row of text fields in one call. */
  row(fields: readonly string[]): void {
    for (const f of fields) this.text(f);
    this.end();
  }

  /** A text field, quoted (with inner quotes doubled) when it holds a comma, quote or line break. */
  text(value: string): void {
    this.sep();
    if (NEEDS_QUOTES.test(value)) this.raw(`"${value.replace(/"/g, '""')}"`);
    else this.raw(value);
  }

  /** A field whose bytes are already known to need no quoting (ids pre-encoded once, for speed). */
  bytes(value: Uint8Array): void {
    this.sep();
    if (this.pos + value.length > this.buf.length) this.reserve(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** A number: integers in plain decimal, others in JavaScript's shortest round-trip form. */
  number(value: number): void {
    this.sep();
    if (Number.isInteger(value) && value >= 0 && value < 2 ** 53) this.uint(value);
    else this.raw(String(value));
  }

  /** Ends the current row with LF. */
  end(): void {
    if (this.pos + 1 > this.buf.length) this.flush();
    this.buf[this.pos++] = 0x0a;
    this.atRowStart = true;
    this.rows++;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private sep(): void {
    if (this.atRowStart) {
      this.atRowStart = false;
      return;
    }
    if (this.pos + 1 > this.buf.length) this.flush();
    this.buf[this.pos++] = 0x2c;
  }

  private uint(value: number): void {
    if (this.pos + 20 > this.buf.length) this.flush();
    const buf = this.buf;
    if (value === 0) {
      buf[this.pos++] = 0x30;
      return;
    }
    let digits = 0;
    for (let v = value; v >= 1; v = Math.floor(v / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    for (let v = value; v >= 1; v = Math.floor(v / 10)) buf[--p] = 0x30 + (v % 10);
  }

  private raw(s: string): void {
    const max = s.length * 3;
    if (this.pos + max > this.buf.length) this.reserve(max);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  private reserve(bytes: number): void {
    this.flush();
    if (bytes > this.buf.length) this.buf = Buffer.allocUnsafe(bytes * 2);
  }

  private flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.pos = 0;
  }
}
