/**
 * interactions.csv (`user_id,item_id,signal,timestamp,label`; label optional, default 1) to and from columns.
 * Ids are resolved to dense indices through ByteInterners straight from the CSV bytes, so a row costs no JS object and,
 * once its ids have been seen, no string.
 */
import { open } from 'node:fs/promises';
import { grow, trim } from './columns.js';
import { CsvTokenizer, headerIndex, type CsvRecord } from './csv.js';
import { CsvWriter } from './csv-writer.js';
import { cannotOpen, DatasetError } from './errors.js';
import { ByteInterner } from './interner.js';
import { recordTime } from './timestamps.js';
import type { InteractionTable } from './types.js';

export const INTERACTION_COLUMNS = ['user_id', 'item_id', 'signal', 'timestamp', 'label'] as const;

/** At most 256 signal names (InteractionTable.signal is a Uint8Array). */
const MAX_SIGNALS = 256;

export interface InteractionsParserOptions {
  /** Known items; a row naming another item is an error. Omit to accept (and intern) any item id. */
  readonly items?: ByteInterner;
  /** Users known beforehand (e.g. from users.csv); new ids are appended. */
  readonly users?: ByteInterner;
}

/** Consumes CSV records (header first) and appends columns. */
export class InteractionsParser {
  readonly users: ByteInterner;
  readonly items: ByteInterner;
  readonly signals = new ByteInterner();
  length = 0;
  private user = new Int32Array(1 << 16);
  private item = new Int32Array(1 << 16);
  private signal = new Uint8Array(1 << 16);
  private label = new Uint8Array(1 << 16);
  private time = new Float64Array(1 << 16);
  private col: Record<string, number> | undefined;
  private fields = 0;
  private readonly fixedItems: boolean;

  constructor(options: InteractionsParserOptions = {}) {
    this.users = options.users ?? new ByteInterner();
    this.items = options.items ?? new ByteInterner();
    this.fixedItems = options.items !== undefined;
  }

  readonly onRecord = (r: CsvRecord): void => {
    if (!this.col) {
      this.col = headerIndex(r, INTERACTION_COLUMNS.slice(0, 4), ['label']);
      this.fields = r.count;
      return;
    }
    const c = this.col;
    if (r.count !== this.fields) r.fail(`expected ${this.fields} fields (as in the header), got ${r.count}`);
    const b = r.bytes;
    const ui = c.user_id;
    const ii = c.item_id;
    const si = c.signal;
    if (r.isEmpty(ui)) r.fail('empty user_id');
    if (r.isEmpty(ii)) r.fail('empty item_id');
    if (r.isEmpty(si)) r.fail('empty signal');
    const item = this.fixedItems ? this.items.find(b, r.start(ii), r.end(ii)) : this.items.intern(b, r.start(ii), r.end(ii));
    if (item < 0) r.fail(`item_id "${r.text(ii)}" is not in items.csv`);
    const signal = this.signals.intern(b, r.start(si), r.end(si));
    if (signal >= MAX_SIGNALS) r.fail(`more than ${MAX_SIGNALS} distinct signals`);
    const time = recordTime(r, c.timestamp);
    if (!Number.isFinite(time)) r.fail(`timestamp "${r.text(c.timestamp)}" is neither epoch seconds nor ISO-8601`);
    let label = 1;
    if (c.label >= 0 && !r.isEmpty(c.label)) {
      const s = r.start(c.label);
      if (r.end(c.label) - s !== 1 || (b[s] !== 0x30 && b[s] !== 0x31)) r.fail(`label "${r.text(c.label)}" must be 0 or 1`);
      label = b[s] - 0x30;
    }
    const n = this.length;
    if (n === this.user.length) this.growColumns(n + 1);
    this.user[n] = this.users.intern(b, r.start(ui), r.end(ui));
    this.item[n] = item;
    this.signal[n] = signal;
    this.label[n] = label;
    this.time[n] = time;
    this.length = n + 1;
  };

  /** True once the header has been read. */
  get started(): boolean {
    return this.col !== undefined;
  }

  /** The rows so far as an InteractionTable, and a reset to zero rows (dictionaries are kept). */
  take(): InteractionTable {
    const n = this.length;
    const table = { length: n, user: trim(this.user, n), item: trim(this.item, n), signal: trim(this.signal, n), label: trim(this.label, n), time: trim(this.time, n) };
    this.length = 0;
    if (table.user === this.user) {
      this.user = new Int32Array(1 << 16);
      this.item = new Int32Array(1 << 16);
      this.signal = new Uint8Array(1 << 16);
      this.label = new Uint8Array(1 << 16);
      this.time = new Float64Array(1 << 16);
    }
    return table;
  }

  private growColumns(min: number): void {
    this.user = grow(this.user, min);
    this.item = grow(this.item, min);
    this.signal = grow(this.signal, min);
    this.label = grow(this.label, min);
    this.time = grow(this.time, min);
  }
}

/** One batch from iterateInteractionsCsv: columns of about batchSize rows plus the (growing) id dictionaries. */
export interface InteractionBatch {
  rows: InteractionTable;
  /** Dense index -> id; shared across batches, each batch may have appended new ids. */
  userIds: readonly string[];
  itemIds: readonly string[];
  signals: readonly string[];
}

export interface IterateOptions extends InteractionsParserOptions {
  /** Rows per batch (a batch may run over by the rows of one read chunk; the last one is short). Default 65536. */
  readonly batchSize?: number;
  /** Read size in bytes (default 1 MiB). */
  readonly chunkBytes?: number;
}

/**
 * Streams interactions.csv in columnar batches with bounded memory (for database imports and other single passes).
 * Malformed rows throw DatasetError with the file and line.
 */
export async function* iterateInteractionsCsv(path: string, options: IterateOptions = {}): AsyncGenerator<InteractionBatch> {
  const batchSize = options.batchSize ?? 65536;
  const parser = new InteractionsParser(options);
  const tokenizer = new CsvTokenizer(path, parser.onRecord);
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw cannotOpen(path, err);
  }
  const batch = (): InteractionBatch => ({ rows: parser.take(), userIds: parser.users.ids, itemIds: parser.items.ids, signals: parser.signals.ids });
  try {
    const buf = Buffer.allocUnsafe(options.chunkBytes ?? 1 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      tokenizer.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      if (parser.length >= batchSize) yield batch();
    }
    tokenizer.finish();
    if (!parser.started) throw new DatasetError(path, 1, 'empty file: no header');
    if (parser.length > 0) yield batch();
  } finally {
    await handle.close();
  }
}

/** Writes interactions.csv (all five columns, times as epoch seconds). */
export function writeInteractionsCsv(path: string, rows: InteractionTable, userIds: readonly string[], itemIds: readonly string[], signals: readonly string[]): void {
  const w = new CsvWriter(path);
  w.row(INTERACTION_COLUMNS);
  const enc = (ids: readonly string[]) => ids.map((id) => Buffer.from(/[",\r\n]/.test(id) ? `"${id.replace(/"/g, '""')}"` : id, 'utf8'));
  const users = enc(userIds);
  const items = enc(itemIds);
  const sigs = enc(signals);
  for (let i = 0; i < rows.length; i++) {
    w.bytes(users[rows.user[i]]);
    w.bytes(items[rows.item[i]]);
    w.bytes(sigs[rows.signal[i]]);
    w.number(rows.time[i]);
    w.number(rows.label[i]);
    w.end();
  }
  w.close();
}
