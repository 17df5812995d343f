/**
 * A plain interaction table (CSV or TSV with a header: user, item and optionally signal, label and time columns under
 * any names) plus feature matrices (.npy) into a Dataset, in memory. Everything is read and checked before anything is
 * written, so a bad input leaves the output folder untouched (see replace-dataset.ts for the write).
 *
 * Items and feature rows (docs/datasets.md, "Interaction tables"):
 *   id mode     (default with features, no items file) item ids are the integers 0..rows-1 and the npy row = item id,
 *               the common research layout; every row is an item, interacted with or not
 *   items mode  (an items file) its ids in file order are the items, row i = its i-th id
 *   neither     (no features, no items file) the items are the distinct item ids in first-seen order
 * Without a time column every interaction and item gets time 0 (1970-01-01T00:00:00Z): the order is unknown, so no
 * time is more right than another, and the item-cold evaluation protocols do not use times.
 */
import { basename, extname } from 'node:path';
import { grow, trim } from './columns.js';
import { headerIndex, readCsvFile, type CsvRecord, type ReadCsvOptions } from './csv.js';
import { DatasetError } from './errors.js';
import { ByteInterner } from './interner.js';
import { buildItemTable } from './items.js';
import { readNpy } from './npy.js';
import { replaceDataset } from './replace-dataset.js';
import { recordTime } from './timestamps.js';
import { MEDIA_TYPES, MODALITIES, type Dataset, type FeatureMatrix, type MediaType, type Modality } from './types.js';

/** Header names of the table's columns; signal, label and time are optional. */
export interface TableColumns {
  readonly user: string;
  readonly item: string;
  readonly signal?: string;
  readonly label?: string;
  readonly time?: string;
}

export type FeatureIndex = 'id' | 'items';

export interface InteractionTableOptions {
  readonly columns: TableColumns;
  /** The one signal's name when there is no signal column (default `interacted`). */
  readonly signal: string;
  /** Field separator; default from each file's extension (`.tsv` tab, otherwise comma). */
  readonly delimiter?: string;
  /** Feature files per modality (any width; float16 stays float16, float64 is narrowed to float32). */
  readonly features: Partial<Record<Modality, string>>;
  /** Items file (header with the item column; optional created_at, media_type, tags, text as in items.csv). */
  readonly items?: string;
  /** How feature rows map to items; default `items` with an items file, else `id`. */
  readonly featureIndex?: FeatureIndex;
  /** Media type of every item not given one by the items file (default video). */
  readonly mediaType: MediaType;
  /** Dataset name (default: the first source's file name). */
  readonly name?: string;
  readonly onProgress?: (stage: string, done: number, total: number) => void;
}

export const DEFAULT_TABLE_OPTIONS: Readonly<Pick<InteractionTableOptions, 'columns' | 'signal' | 'features' | 'mediaType'>> = Object.freeze({
  columns: { user: 'user_id', item: 'item_id' },
  signal: 'interacted',
  features: {},
  mediaType: 'video',
});

export interface TableRead {
  dataset: Dataset;
  /** Per interaction row, the index of the source file it came from. */
  source: Uint8Array;
  /** Data rows per source file. */
  sourceRows: number[];
}

/** What an import prints (`--json`). */
export interface TableImportSummary {
  out: string;
  items: number;
  users: number;
  /** Rows per signal. */
  interactions: Record<string, number>;
  positives: number;
  negatives: number;
  /** Items (feature rows or items-file lines) that no interaction names. */
  itemsWithoutInteractions: number;
  features: Partial<Record<Modality, { dim: number; dtype: FeatureMatrix['dtype'] }>>;
  seconds: number;
}

/** At most 256 signals (InteractionTable.signal is a Uint8Array), as the dataset reader allows. */
const MAX_SIGNALS = 256;

/** `.tsv` files are tab separated without quoting (TSV has no quoting convention); anything else is RFC 4180 CSV. */
export function tableDialect(path: string, delimiter?: string): Pick<ReadCsvOptions, 'delimiter' | 'quoting'> {
  const tab = delimiter === undefined ? extname(path).toLowerCase() === '.tsv' : delimiter === '\t';
  return tab ? { delimiter: '\t', quoting: false } : { delimiter: delimiter ?? ',', quoting: true };
}

/** Reads the sources (same columns each, rows concatenated in order) and the features into one Dataset. */
export async function readInteractionTables(sources: readonly string[], options: Partial<InteractionTableOptions> = {}): Promise<TableRead> {
  const o = { ...DEFAULT_TABLE_OPTIONS, ...options };
  if (sources.length > 256) throw new RangeError('more than 256 source files (the row-to-source column is a Uint8Array)');
  const progress = (stage: string) => (o.onProgress ? (done: number, total: number) => o.onProgress?.(stage, done, total) : undefined);
  const features = await loadFeatures(o.features);
  const rows = Object.values(features)[0]?.rows;
  const mode = o.featureIndex ?? (o.items ? 'items' : rows !== undefined ? 'id' : undefined);
  if (mode === 'items' && !o.items) throw new RangeError('featureIndex "items" needs an items file');
  if (mode === 'id' && o.items) throw new RangeError('featureIndex "id" takes the items from the feature rows; drop the items file or use "items"');
  if (mode === 'id' && rows === undefined) throw new RangeError('featureIndex "id" needs at least one feature file');

  const listed = o.items ? await readItemList(o.items, o.columns.item, o.delimiter, o.mediaType) : undefined;
  if (listed) {
    for (const [m, f] of Object.entries(features)) {
      if (f.rows !== listed.index.size) throw new DatasetError(o.features[m as Modality] as string, 0, `has ${f.rows} rows but ${o.items} lists ${listed.index.size} items (row i = its i-th item)`);
    }
  }
  const table = new TableParser(o.columns, o.signal, mode === 'id' ? { rows: rows as number } : { items: listed?.index });
  const sourceRows: number[] = [];
  for (const path of sources) {
    const before = table.length;
    table.begin();
    await readCsvFile(path, table.onRecord, { ...tableDialect(path, o.delimiter), onProgress: progress(basename(path)) });
    if (!table.started) throw new DatasetError(path, 1, 'empty file: no header');
    sourceRows.push(table.length - before);
  }

  const { rows: interactions, source } = table.take();
  const itemIds = mode === 'id' ? Array.from({ length: rows as number }, (_, i) => String(i)) : table.items.ids;
  // created_at: the items file's value, else the item's first interaction, else the log's last time (as MovieLens).
  const first = new Float64Array(itemIds.length).fill(Infinity);
  let end = -Infinity;
  for (let i = 0; i < interactions.length; i++) {
    const t = interactions.time[i];
    if (t < first[interactions.item[i]]) first[interactions.item[i]] = t;
    if (t > end) end = t;
  }
  if (!Number.isFinite(end)) end = 0;
  const items = buildItemTable(
    itemIds.map((id, i) => {
      const given = listed?.attributes[i];
      const createdAt = given && Number.isFinite(given.createdAt) ? given.createdAt : Number.isFinite(first[i]) ? first[i] : end;
      return { id, createdAt, mediaType: given?.mediaType ?? o.mediaType, tags: given?.tags ?? [], text: given?.text ?? '' };
    }),
  );
  const name = o.name ?? basename(sources[0] ?? 'table', extname(sources[0] ?? ''));
  return {
    dataset: { name, items, userIds: table.users.ids, signals: table.signals.ids, interactions, features },
    source,
    sourceRows,
  };
}

/** readInteractionTables on one file, then the dataset folder at out (nothing is written when the input is bad). */
export async function importInteractionTable(src: string, out: string, options: Partial<InteractionTableOptions> = {}): Promise<TableImportSummary> {
  const t0 = performance.now();
  const { dataset } = await readInteractionTables([src], options);
  await replaceDataset(out, dataset);
  return tableSummary(out, dataset, t0);
}

export function tableSummary(out: string, d: Dataset, t0: number): TableImportSummary {
  const x = d.interactions;
  const interactions: Record<string, number> = Object.fromEntries(d.signals.map((s) => [s, 0]));
  const used = new Uint8Array(d.items.ids.length);
  let positives = 0;
  for (let i = 0; i < x.length; i++) {
    interactions[d.signals[x.signal[i]]]++;
    positives += x.label[i];
    used[x.item[i]] = 1;
  }
  const features: TableImportSummary['features'] = {};
  for (const m of MODALITIES) {
    const f = d.features[m];
    if (f) features[m] = { dim: f.dim, dtype: f.dtype };
  }
  return {
    out,
    items: d.items.ids.length,
    users: d.userIds.length,
    interactions,
    positives,
    negatives: x.length - positives,
    itemsWithoutInteractions: used.length - used.reduce((a, b) => a + b, 0),
    features,
    seconds: Math.round(performance.now() - t0) / 1000,
  };
}

/** Each feature file as a 2-D matrix; all must have the same row count (one row per item). */
async function loadFeatures(paths: Partial<Record<Modality, string>>): Promise<Partial<Record<Modality, FeatureMatrix>>> {
  const out: Partial<Record<Modality, FeatureMatrix>> = {};
  let firstPath = '';
  let rows = -1;
  for (const m of MODALITIES) {
    const path = paths[m];
    if (path === undefined) continue;
    const arr = await readNpy(path);
    if (arr.shape.length !== 2) throw new DatasetError(path, 0, `expected a 2-D matrix (items x dim), got shape (${arr.shape.join(', ')})`);
    const [r, dim] = arr.shape;
    if (dim === 0) throw new DatasetError(path, 0, 'has 0 columns');
    if (rows >= 0 && r !== rows) throw new DatasetError(path, 0, `has ${r} rows but ${firstPath} has ${rows} (every feature file needs one row per item, in the same order)`);
    rows = r;
    firstPath = path;
    out[m] = { rows: r, dim, dtype: arr.dtype, data: arr.data };
  }
  return out;
}

interface ItemAttributes {
  createdAt: number;
  mediaType: MediaType;
  tags: string[];
  text: string;
}

/** The items file: ids in row order (unique, non-empty) and the optional items.csv columns. */
async function readItemList(path: string, itemCol: string, delimiter: string | undefined, mediaType: MediaType): Promise<{ index: ByteInterner; attributes: ItemAttributes[] }> {
  const index = new ByteInterner();
  const attributes: ItemAttributes[] = [];
  let col: Record<string, number> | undefined;
  let fields = 0;
  await readCsvFile(path, (r) => {
    if (!col) {
      col = namedColumns(r, { item: itemCol }, ['created_at', 'media_type', 'tags', 'text']);
      fields = r.count;
      return;
    }
    if (r.count !== fields) r.fail(`expected ${fields} fields (as in the header), got ${r.count}`);
    if (r.isEmpty(col.item)) r.fail(`empty ${itemCol}`);
    const before = index.size;
    index.intern(r.bytes, r.start(col.item), r.end(col.item));
    if (index.size === before) r.fail(`duplicate ${itemCol} "${r.text(col.item)}"`);
    let createdAt = NaN;
    if (col.created_at >= 0 && !r.isEmpty(col.created_at)) {
      createdAt = recordTime(r, col.created_at);
      if (!Number.isFinite(createdAt)) r.fail(`created_at "${r.text(col.created_at)}" is neither epoch seconds nor ISO-8601`);
    }
    let media = mediaType;
    if (col.media_type >= 0 && !r.isEmpty(col.media_type)) {
      media = r.text(col.media_type).trim() as MediaType;
      if (!MEDIA_TYPES.includes(media)) r.fail(`media_type "${media}" must be one of ${MEDIA_TYPES.join(', ')}`);
    }
    const tags = col.tags >= 0 ? r.text(col.tags).split('|').map((t) => t.trim()).filter((t) => t !== '') : [];
    attributes.push({ createdAt, mediaType: media, tags, text: col.text >= 0 ? r.text(col.text) : '' });
  }, tableDialect(path, delimiter));
  if (!col) throw new DatasetError(path, 1, 'empty file: no header');
  return { index, attributes };
}

/**
 * Column indices by role from a header: `named` roles must be present (the error lists the header's columns), the
 * `optional` header names map to -1 when absent.
 */
function namedColumns(r: CsvRecord, named: Record<string, string | undefined>, optional: readonly string[] = []): Record<string, number> {
  const header = headerIndex(r, [], optional);
  const out: Record<string, number> = {};
  for (const name of optional) out[name] = header[name];
  for (const [role, name] of Object.entries(named)) {
    if (name === undefined) {
      out[role] = -1;
      continue;
    }
    if (!(name in header) || header[name] < 0) {
      const have = Array.from({ length: r.count }, (_, i) => r.text(i).trim());
      r.fail(`no column "${name}" (the ${role} column); the header has ${have.map((h) => JSON.stringify(h)).join(', ')}`);
    }
    out[role] = header[name];
  }
  return out;
}

/** Items by integer id (row = id, ids < rows), by a fixed list, or interned as they come. */
type ItemResolution = { rows: number } | { items?: ByteInterner };

/** Appends rows of one or more tables to growing columns; ids resolve straight from the CSV bytes. */
class TableParser {
  readonly users = new ByteInterner();
  readonly items: ByteInterner;
  readonly signals = new ByteInterner();
  length = 0;
  private user = new Int32Array(1 << 16);
  private item = new Int32Array(1 << 16);
  private signal = new Uint8Array(1 << 16);
  private label = new Uint8Array(1 << 16);
  private time = new Float64Array(1 << 16);
  private source = new Uint8Array(1 << 16);
  private col: Record<string, number> | undefined;
  private fields = 0;
  private sourceIndex = -1;
  private readonly rows: number;
  private readonly fixedItems: boolean;
  private fixedSignal = -1;

  constructor(
    private readonly columns: TableColumns,
    signal: string,
    items: ItemResolution,
  ) {
    this.rows = 'rows' in items ? items.rows : -1;
    this.items = ('items' in items && items.items) || new ByteInterner();
    this.fixedItems = 'items' in items && items.items !== undefined;
    if (columns.signal === undefined) {
      if (signal === '') throw new RangeError('the signal name is empty');
      this.fixedSignal = this.signals.internString(signal);
    }
  }

  /** Starts the next source file (its header comes next). */
  begin(): void {
    this.col = undefined;
    this.sourceIndex++;
  }

  get started(): boolean {
    return this.col !== undefined;
  }

  readonly onRecord = (r: CsvRecord): void => {
    if (!this.col) {
      const c = this.columns;
      this.col = namedColumns(r, { user: c.user, item: c.item, signal: c.signal, label: c.label, time: c.time });
      this.fields = r.count;
      return;
    }
    const c = this.col;
    if (r.count !== this.fields) r.fail(`expected ${this.fields} fields (as in the header), got ${r.count}`);
    const b = r.bytes;
    if (r.isEmpty(c.user)) r.fail(`empty ${this.columns.user}`);
    if (r.isEmpty(c.item)) r.fail(`empty ${this.columns.item}`);
    const item = this.resolveItem(r, c.item);
    let signal = this.fixedSignal;
    if (c.signal >= 0) {
      if (r.isEmpty(c.signal)) r.fail(`empty ${this.columns.signal}`);
      signal = this.signals.intern(b, r.start(c.signal), r.end(c.signal));
      if (signal >= MAX_SIGNALS) r.fail(`more than ${MAX_SIGNALS} distinct signals`);
    }
    let label = 1;
    if (c.label >= 0 && !r.isEmpty(c.label)) {
      const s = r.start(c.label);
      if (r.end(c.label) - s !== 1 || (b[s] !== 0x30 && b[s] !== 0x31)) r.fail(`${this.columns.label} "${r.text(c.label)}" must be 0, 1 or empty (= 1)`);
      label = b[s] - 0x30;
    }
    let time = 0;
    if (c.time >= 0) {
      time = recordTime(r, c.time);
      if (!Number.isFinite(time)) r.fail(`${this.columns.time} "${r.text(c.time)}" is neither epoch seconds nor ISO-8601`);
    }
    const n = this.length;
    if (n === this.user.length) this.growColumns(n + 1);
    this.user[n] = this.users.intern(b, r.start(c.user), r.end(c.user));
    this.item[n] = item;
    this.signal[n] = signal;
    this.label[n] = label;
    this.time[n] = time;
    this.source[n] = this.sourceIndex;
    this.length = n + 1;
  };

  take(): { rows: Dataset['interactions']; source: Uint8Array } {
    const n = this.length;
    return {
      rows: { length: n, user: trim(this.user, n), item: trim(this.item, n), signal: trim(this.signal, n), label: trim(this.label, n), time: trim(this.time, n) },
      source: trim(this.source, n),
    };
  }

  private resolveItem(r: CsvRecord, i: number): number {
    const b = r.bytes;
    const s = r.start(i);
    const e = r.end(i);
    if (this.rows < 0) {
      if (!this.fixedItems) return this.items.intern(b, s, e);
      const k = this.items.find(b, s, e);
      if (k < 0) r.fail(`${this.columns.item} "${r.text(i)}" is not in the items file`);
      return k;
    }
    // Row = id: only canonical decimal integers (no sign, no leading zero), so the written id is the one read.
    let v = 0;
    let ok = e - s <= 15 && !(e - s > 1 && b[s] === 0x30);
    for (let p = s; ok && p < e; p++) {
      const d = b[p] - 0x30;
      if (d < 0 || d > 9) ok = false;
      v = v * 10 + d;
    }
    if (!ok) r.fail(`${this.columns.item} "${r.text(i)}" is not a feature row index (a non-negative integer without leading zeros); name the rows with an items file`);
    if (v >= this.rows) r.fail(`${this.columns.item} ${v} is out of range: the feature files have ${this.rows} rows (0..${this.rows - 1}), row = item id`);
    return v;
  }

  private growColumns(min: number): void {
    this.user = grow(this.user, min);
    this.item = grow(this.item, min);
    this.signal = grow(this.signal, min);
    this.label = grow(this.label, min);
    this.time = grow(this.time, min);
    this.source = grow(this.source, min);
  }
}
