/**
 * FFM training rows in CSR layout: one flat array per column, no object per row.
 *
 * Glossary
 *   field        a group of features (user, post, hour, media, tags); features of field f are the global indices
 *                [offsets[f], offsets[f] + size_f)
 *   row i        the entries offsets[i] .. offsets[i+1]-1 of features / fields / values, and labels[i]
 *   nnz          total entries over all rows
 *
 * Bytes per row: 4 (row offset) + 1 (label) + per entry 4 (feature) + 1 (field) [+ 4 (value) when values are
 * present]. The usual user/post/hour row (3 entries, no values) is 4 + 1 + 3 * 5 = 20 bytes; see bytesPerRow.
 */
import { FfmError } from './errors.js';
import type { KernelRows } from './kernel.js';

export interface FieldSpec {
  readonly name: string;
  /** Number of distinct features in the field (users, posts, 24 hours, ...). */
  readonly size: number;
}

export interface FeatureSpace {
  readonly fields: readonly FieldSpec[];
  /** offsets[f]: global index of field f's first feature. */
  readonly offsets: readonly number[];
  readonly numFeatures: number;
}

export interface FfmData extends KernelRows {
  readonly space: FeatureSpace;
  readonly rows: number;
  /** Largest number of entries in one row (sizes the kernel's scratch). */
  readonly maxRowLength: number;
}

export function featureSpace(fields: readonly FieldSpec[]): FeatureSpace {
  if (fields.length === 0 || fields.length > 255) throw new FfmError('BAD_PARAM', `an FFM needs 1..255 fields, got ${fields.length}`);
  const names = new Set<string>();
  const offsets: number[] = [];
  let total = 0;
  for (const f of fields) {
    if (names.has(f.name)) throw new FfmError('BAD_PARAM', `field "${f.name}" is declared twice`);
    if (!Number.isInteger(f.size) || f.size < 0) throw new FfmError('BAD_PARAM', `field "${f.name}" has size ${f.size}`);
    names.add(f.name);
    offsets.push(total);
    total += f.size;
  }
  return Object.freeze({ fields: Object.freeze(fields.map((f) => Object.freeze({ ...f }))), offsets: Object.freeze(offsets), numFeatures: total });
}

/** Index of the named field; throws UNKNOWN_FIELD listing the known ones. */
export function fieldIndex(space: FeatureSpace, name: string): number {
  const i = space.fields.findIndex((f) => f.name === name);
  if (i < 0) throw new FfmError('UNKNOWN_FIELD', `unknown field "${name}"; fields are ${space.fields.map((f) => f.name).join(', ')}`);
  return i;
}

export function bytesPerRow(data: FfmData): number {
  const nnz = data.features.length;
  const perEntry = 5 + (data.values === null ? 0 : 4);
  return data.rows === 0 ? 0 : 5 + (nnz * perEntry) / data.rows;
}

/** Full check of a CSR set: shapes, monotone offsets, each feature inside its field's range, finite values, 0/1 labels. */
export function validateFfmData(d: FfmData): void {
  const m = d.space.fields.length;
  if (d.rows === 0) throw new FfmError('EMPTY_DATA', 'no rows');
  if (d.offsets.length !== d.rows + 1 || d.labels.length !== d.rows) throw new FfmError('BAD_INDEX', `offsets/labels do not match ${d.rows} rows`);
  const nnz = d.offsets[d.rows];
  if (d.offsets[0] !== 0 || d.features.length !== nnz || d.fields.length !== nnz || (d.values !== null && d.values.length !== nnz)) {
    throw new FfmError('BAD_INDEX', `entry columns do not match offsets (nnz ${nnz})`);
  }
  let maxLen = 0;
  for (let i = 0; i < d.rows; i++) {
    const len = d.offsets[i + 1] - d.offsets[i];
    if (len < 0) throw new FfmError('BAD_INDEX', `row ${i} has negative length`);
    if (len > maxLen) maxLen = len;
    const y = d.labels[i];
    if (y !== 0 && y !== 1) throw new FfmError('BAD_LABEL', `row ${i} has label ${y}; labels must be 0 or 1`);
  }
  if (maxLen > d.maxRowLength) throw new FfmError('BAD_INDEX', `maxRowLength ${d.maxRowLength} is below the longest row (${maxLen})`);
  for (let a = 0; a < nnz; a++) {
    const f = d.fields[a];
    if (f >= m) throw new FfmError('BAD_INDEX', `entry ${a} has field ${f}; there are ${m} fields`);
    const local = d.features[a] - d.space.offsets[f];
    if (!(local >= 0 && local < d.space.fields[f].size)) {
      throw new FfmError('BAD_INDEX', `entry ${a}: feature ${d.features[a]} is outside field "${d.space.fields[f].name}"`);
    }
    if (d.values !== null && !Number.isFinite(d.values[a])) throw new FfmError('NON_FINITE', `entry ${a} has value ${d.values[a]}`);
  }
}

/**
 * Rows with exactly one feature per field, given as one column of field-local indices per field (the common case:
 * user, post, hour). `labels` may be any numbers; they must be 0 or 1 (NaN is reported as NON_FINITE).
 */
export function ffmDataFromColumns(space: FeatureSpace, columns: Record<string, ArrayLike<number>>, labels: ArrayLike<number>): FfmData {
  for (const name of Object.keys(columns)) fieldIndex(space, name);
  const used = space.fields.map((f, fi) => ({ fi, col: columns[f.name] })).filter((c) => c.col !== undefined);
  const n = labels.length;
  for (const { fi, col } of used) {
    if (col.length !== n) throw new FfmError('BAD_INDEX', `column "${space.fields[fi].name}" has ${col.length} rows, labels have ${n}`);
  }
  const b = new FfmDataBuilder(space, n);
  for (let i = 0; i < n; i++) {
    for (const { fi, col } of used) b.add(fi, col[i]);
    b.endRow(labels[i]);
  }
  return b.build();
}

/** Appends rows entry by entry into growing typed arrays; `build` validates and trims. */
export class FfmDataBuilder {
  private offsets: Int32Array;
  private labels: Uint8Array;
  private features: Int32Array;
  private fields: Uint8Array;
  private values: Float32Array | null = null;
  private rows = 0;
  private nnz = 0;
  private maxLen = 0;

  constructor(
    readonly space: FeatureSpace,
    rowCapacity = 1024,
    private readonly entriesPerRow = space.fields.length,
  ) {
    const cap = Math.max(1, rowCapacity);
    this.offsets = new Int32Array(cap + 1);
    this.labels = new Uint8Array(cap);
    this.features = new Int32Array(cap * Math.max(1, entriesPerRow));
    this.fields = new Uint8Array(this.features.length);
  }

  /** Adds feature `local` of field `field` (index) to the current row, with value x (default 1). */
  add(field: number, local: number, x = 1): void {
    if (!(field >= 0 && field < this.space.fields.length)) throw new FfmError('UNKNOWN_FIELD', `field index ${field} is not one of the ${this.space.fields.length} fields`);
    if (!Number.isFinite(local) || !Number.isFinite(x)) throw new FfmError('NON_FINITE', `row ${this.rows}: non-finite feature or value (${local}, ${x})`);
    if (!(Number.isInteger(local) && local >= 0 && local < this.space.fields[field].size)) {
      throw new FfmError('BAD_INDEX', `row ${this.rows}: feature ${local} is outside field "${this.space.fields[field].name}" (size ${this.space.fields[field].size})`);
    }
    if (this.nnz === this.features.length) this.growEntries();
    if (x !== 1 && this.values === null) this.values = new Float32Array(this.features.length).fill(1);
    this.features[this.nnz] = this.space.offsets[field] + local;
    this.fields[this.nnz] = field;
    if (this.values !== null) this.values[this.nnz] = x;
    this.nnz++;
  }

  endRow(label: number): void {
    if (Number.isNaN(label)) throw new FfmError('NON_FINITE', `row ${this.rows} has label NaN`);
    if (label !== 0 && label !== 1) throw new FfmError('BAD_LABEL', `row ${this.rows} has label ${label}; labels must be 0 or 1`);
    if (this.rows === this.labels.length) this.growRows();
    this.labels[this.rows] = label;
    this.rows++;
    this.offsets[this.rows] = this.nnz;
    const len = this.nnz - this.offsets[this.rows - 1];
    if (len > this.maxLen) this.maxLen = len;
  }

  get rowCount(): number {
    return this.rows;
  }

  build(): FfmData {
    if (this.rows === 0) throw new FfmError('EMPTY_DATA', 'no rows were added');
    return {
      space: this.space,
      rows: this.rows,
      maxRowLength: this.maxLen,
      offsets: this.offsets.slice(0, this.rows + 1),
      labels: this.labels.slice(0, this.rows),
      features: this.features.slice(0, this.nnz),
      fields: this.fields.slice(0, this.nnz),
      values: this.values === null ? null : this.values.slice(0, this.nnz),
    };
  }

  private growRows(): void {
    const cap = this.labels.length * 2;
    const o = new Int32Array(cap + 1);
    o.set(this.offsets);
    this.offsets = o;
    const l = new Uint8Array(cap);
    l.set(this.labels);
    this.labels = l;
  }

  private growEntries(): void {
    const cap = this.features.length * 2;
    const f = new Int32Array(cap);
    f.set(this.features);
    this.features = f;
    const g = new Uint8Array(cap);
    g.set(this.fields);
    this.fields = g;
    if (this.values !== null) {
      const v = new Float32Array(cap);
      v.set(this.values);
      this.values = v;
    }
  }
}

/** Typed array of the same kind and length, in a SharedArrayBuffer when `shared`. */
function alloc<T extends Int32Array | Uint8Array | Float32Array>(like: T, length: number, shared: boolean): T {
  const C = like.constructor as { new (b: ArrayBufferLike): T; new (n: number): T; BYTES_PER_ELEMENT: number };
  return shared ? new C(new SharedArrayBuffer(Math.max(1, length) * C.BYTES_PER_ELEMENT)).subarray(0, length) as T : new C(length);
}

/** The rows `rowIndex` (in that order) as a new set, in SharedArrayBuffers when `shared` (for worker threads). */
export function gatherRows(d: FfmData, rowIndex: Int32Array, shared = false): FfmData {
  let nnz = 0;
  for (let r = 0; r < rowIndex.length; r++) nnz += d.offsets[rowIndex[r] + 1] - d.offsets[rowIndex[r]];
  const offsets = alloc(d.offsets, rowIndex.length + 1, shared);
  const labels = alloc(d.labels, rowIndex.length, shared);
  const features = alloc(d.features, nnz, shared);
  const fields = alloc(d.fields, nnz, shared);
  const values = d.values === null ? null : alloc(d.values, nnz, shared);
  // Plain element loops: a subarray per row would allocate three views per row.
  const srcF = d.features, srcG = d.fields, srcV = d.values, srcO = d.offsets, srcL = d.labels;
  let at = 0;
  let maxLen = 0;
  for (let r = 0; r < rowIndex.length; r++) {
    const i = rowIndex[r];
    const s = srcO[i], e = srcO[i + 1];
    for (let a = s; a < e; a++, at++) {
      features[at] = srcF[a];
      fields[at] = srcG[a];
      if (values !== null && srcV !== null) values[at] = srcV[a];
    }
    if (e - s > maxLen) maxLen = e - s;
    labels[r] = srcL[i];
    offsets[r + 1] = at;
  }
  return { space: d.space, rows: rowIndex.length, maxRowLength: maxLen, offsets, labels, features, fields, values };
}

/** True when every column lives in a SharedArrayBuffer (so workers can read it without a copy). */
export function isShared(d: FfmData): boolean {
  const cols = [d.offsets, d.labels, d.features, d.fields, ...(d.values === null ? [] : [d.values])];
  return cols.every((c) => c.buffer instanceof SharedArrayBuffer);
}
