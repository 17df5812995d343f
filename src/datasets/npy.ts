/**
 * NumPy .npy files (format spec: numpy.lib.format, versions 1.0-3.0), enough for feature matrices:
 *   magic "\x93NUMPY", major, minor, header length (uint16 LE in v1, uint32 LE in v2/v3), an ASCII Python dict literal
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (rows, dim), } padded with spaces and a final "\n" so that the data
 *   starts at a multiple of 64 bytes; then the C-order data.
 * Reads <f4, <f2 and <f8 (float64 is narrowed to float32), big-endian variants byte-swapped; writes v1.0 <f4 or <f2.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { DatasetError, openDatasetFile } from './errors.js';
import { floatsToHalves } from '../lib/float16.js';

export type NpyDtype = 'float32' | 'float16';

export interface NpyHeader {
  /** Element type after reading (float64 files are narrowed to float32). */
  dtype: NpyDtype;
  /** dtype as stored: '<f4', '>f2', ... */
  descr: string;
  shape: number[];
  /** Byte offset of the data. */
  dataOffset: number;
}

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** float16 is kept as raw half bits. */
  data: Float32Array | Uint16Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses the preamble and header dict from the first bytes of a file (at least dataOffset bytes). */
export function parseNpyHeader(bytes: Uint8Array, file = '<npy>'): NpyHeader {
  const bad = (why: string): never => {
    throw new DatasetError(file, 0, `not a readable .npy file: ${why}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) bad('missing the \\x93NUMPY magic');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) bad('truncated preamble');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else return bad(`unsupported format version ${major}.${bytes[7]}`);
  if (bytes.length < start + headerLen) bad('truncated header');
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1] ?? bad(`header has no descr: ${text.trim()}`);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1] ?? bad(`header has no fortran_order: ${text.trim()}`);
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1] ?? bad(`header has no shape: ${text.trim()}`);
  if (fortran === 'True') bad('fortran_order=True is not supported (save a C-order array: np.ascontiguousarray)');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => (/^\d+L?$/.test(s) ? Number.parseInt(s, 10) : bad(`bad shape entry "${s}"`)));
  const kind = descr.replace(/^[<>=|]/, '');
  const dtype: NpyDtype = kind === 'f2' ? 'float16' : kind === 'f4' || kind === 'f8' ? 'float32' : bad(`dtype ${descr} is not float16/32/64`);
  return { dtype, descr, shape, dataOffset: start + headerLen };
}

/** Reads a whole .npy file into a fresh typed array. A file whose size disagrees with its shape is an error. */
export async function readNpy(path: string): Promise<NpyArray> {
  const handle = await openDatasetFile(path);
  try {
    const size = (await handle.stat()).size;
    const pre = Buffer.alloc(Math.min(size, 65536 + 12));
    await handle.read(pre, 0, pre.length, 0);
    const header = parseNpyHeader(pre, path);
    const count = header.shape.reduce((a, b) => a * b, 1);
    const itemBytes = header.descr.endsWith('8') ? 8 : header.descr.endsWith('4') ? 4 : 2;
    const expected = header.dataOffset + count * itemBytes;
    if (size !== expected) {
      throw new DatasetError(path, 0, `data is ${size - header.dataOffset} bytes but shape (${header.shape.join(', ')}) of ${header.descr} needs ${count * itemBytes}`);
    }
    const raw = new Uint8Array(count * itemBytes);
    for (let off = 0; off < raw.length; ) {
      const { bytesRead } = await handle.read(raw, off, Math.min(raw.length - off, 1 << 26), header.dataOffset + off);
      if (bytesRead === 0) throw new DatasetError(path, 0, 'file ended early');
      off += bytesRead;
    }
    const bigEndian = header.descr.startsWith('>');
    if (bigEndian) swapBytes(raw, itemBytes);
    let data: Float32Array | Uint16Array;
    if (itemBytes === 8) data = Float32Array.from(new Float64Array(raw.buffer));
    else if (itemBytes === 4) data = new Float32Array(raw.buffer);
    else data = new Uint16Array(raw.buffer);
    return { dtype: header.dtype, shape: header.shape, data };
  } finally {
    await handle.close();
  }
}

function swapBytes(raw: Uint8Array, width: number): void {
  for (let i = 0; i < raw.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = raw[a];
      raw[a] = raw[b];
      raw[b] = t;
    }
  }
}

/** The v1.0 preamble + header for a C-order little-endian float array, padded to a multiple of 64 bytes. */
export function npyHeaderBytes(dtype: NpyDtype, shape: readonly number[]): Buffer {
  const descr = dtype === 'float16' ? '<f2' : '<f4';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  if (dict.length > 0xffff) throw new RangeError('npy header too long for format 1.0');
  const out = Buffer.alloc(10 + dict.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(dict.length, 8);
  out.write(dict, 10, 'latin1');
  return out;
}

/**
 * Streams a 2-D matrix to a .npy file row block by row block, so a feature file never has to be in memory whole.
 * float32 input rows are narrowed when the file's dtype is float16.
 */
export class NpyWriter {
  private readonly fd: number;
  private written = 0;
  private scratch = new Uint16Array(0);

  constructor(
    readonly path: string,
    readonly dtype: NpyDtype,
    readonly rows: number,
    readonly dim: number,
    /** The shape the header records (default [rows, dim]); rows x dim values either way. */
    shape: readonly number[] = [rows, dim],
  ) {
    this.fd = openSync(path, 'w');
    writeAll(this.fd, npyHeaderBytes(dtype, shape));
  }

  /** Appends whole rows given as float32 values (length a multiple of dim). */
  writeFloats(values: Float32Array): void {
    this.count(values.length);
    if (this.dtype === 'float32') writeAll(this.fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    else {
      if (this.scratch.length < values.length) this.scratch = new Uint16Array(values.length);
      const halves = floatsToHalves(values, this.scratch.subarray(0, values.length));
      writeAll(this.fd, new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength));
    }
  }

  /** Appends whole rows already in half bits (float16 files only). */
  writeHalves(values: Uint16Array): void {
    if (this.dtype !== 'float16') throw new TypeError('writeHalves needs a float16 NpyWriter');
    this.count(values.length);
    writeAll(this.fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }

  /** Closes and deletes the file, for a writer that failed part way (no half-written matrix is left behind). */
  abort(): void {
    closeSync(this.fd);
    rmSync(this.path, { force: true });
  }

  /** Closes the file; throws if fewer rows were written than the header promised. */
  close(): void {
    closeSync(this.fd);
    if (this.written !== this.rows * this.dim) throw new Error(`${this.path}: wrote ${this.written / this.dim} rows, header says ${this.rows}`);
  }

  private count(n: number): void {
    if (n % this.dim !== 0) throw new RangeError(`${this.path}: ${n} values is not a whole number of ${this.dim}-d rows`);
    if (this.written + n > this.rows * this.dim) throw new RangeError(`${this.path}: more than ${this.rows} rows written`);
    this.written += n;
  }
}

/** Writes a whole array at once, of any rank (written as rows of the first axis). */
export function writeNpy(path: string, array: NpyArray): void {
  const [rows, ...rest] = array.shape;
  const w = new NpyWriter(path, array.dtype, rows, rest.reduce((a, b) => a * b, 1), array.shape);
  if (array.data instanceof Float32Array) w.writeFloats(array.data);
  else w.writeHalves(array.data);
  w.close();
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
}
