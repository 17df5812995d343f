/** items.csv (`item_id,created_at,media_type,tags,text`; tags `|`-separated, tags and text optional) <-> ItemTable. */
import { headerIndex, readCsvFile, type CsvRecord, type ReadCsvOptions } from './csv.js';
import { CsvWriter } from './csv-writer.js';
import { DatasetError } from './errors.js';
import { ByteInterner } from './interner.js';
import { recordTime, formatTime } from './timestamps.js';
import { MEDIA_TYPES, type ItemTable, type MediaType } from './types.js';

export const ITEM_COLUMNS = ['item_id', 'created_at', 'media_type', 'tags', 'text'] as const;

/** Items plus the interner that maps their id bytes to row indices (used to resolve interactions). */
export interface ParsedItems {
  table: ItemTable;
  index: ByteInterner;
}

export async function readItemsCsv(path: string, options: Partial<ReadCsvOptions> = {}): Promise<ParsedItems> {
  const index = new ByteInterner();
  const tags = new Map<string, number>();
  const tagNames: string[] = [];
  const createdAt: number[] = [];
  const mediaType: number[] = [];
  const tagOffsets: number[] = [0];
  const tagIds: number[] = [];
  const text: string[] = [];
  let col: Record<string, number> | undefined;
  let fields = 0;
  const onRecord = (r: CsvRecord) => {
    if (!col) {
      col = headerIndex(r, ITEM_COLUMNS.slice(0, 3), ITEM_COLUMNS.slice(3));
      fields = r.count;
      return;
    }
    if (r.count !== fields) r.fail(`expected ${fields} fields (as in the header), got ${r.count}`);
    if (r.isEmpty(col.item_id)) r.fail('empty item_id');
    const before = index.size;
    index.intern(r.bytes, r.start(col.item_id), r.end(col.item_id));
    if (index.size === before) r.fail(`duplicate item_id "${r.text(col.item_id)}"`);
    const t = recordTime(r, col.created_at);
    if (!Number.isFinite(t)) r.fail(`created_at "${r.text(col.created_at)}" is neither epoch seconds nor ISO-8601`);
    createdAt.push(t);
    const media = r.text(col.media_type).trim() as MediaType;
    const m = MEDIA_TYPES.indexOf(media);
    if (m < 0) r.fail(`media_type "${media}" must be one of ${MEDIA_TYPES.join(', ')}`);
    mediaType.push(m);
    if (col.tags >= 0 && !r.isEmpty(col.tags)) {
      const seen = new Set<number>();
      for (const raw of r.text(col.tags).split('|')) {
        const name = raw.trim();
        if (name === '') continue;
        let id = tags.get(name);
        if (id === undefined) {
          id = tagNames.length;
          tags.set(name, id);
          tagNames.push(name);
        }
        if (!seen.has(id)) tagIds.push(id);
        seen.add(id);
      }
    }
    tagOffsets.push(tagIds.length);
    text.push(col.text >= 0 ? r.text(col.text) : '');
  };
  await readCsvFile(path, onRecord, options);
  if (!col) throw new DatasetError(path, 1, 'empty file: no header');
  return {
    index,
    table: {
      ids: index.ids,
      createdAt: Float64Array.from(createdAt),
      mediaType: Uint8Array.from(mediaType),
      tagNames,
      tagOffsets: Int32Array.from(tagOffsets),
      tagIds: Int32Array.from(tagIds),
      text,
    },
  };
}

/** The tag names of item i. */
export function itemTags(items: ItemTable, i: number): string[] {
  const out: string[] = [];
  for (let k = items.tagOffsets[i]; k < items.tagOffsets[i + 1]; k++) out.push(items.tagNames[items.tagIds[k]]);
  return out;
}

/** Builds an ItemTable from per-item values (importers and the simulator use this). */
export function buildItemTable(rows: readonly { id: string; createdAt: number; mediaType: MediaType; tags: readonly string[]; text: string }[]): ItemTable {
  const tagIndex = new Map<string, number>();
  const tagNames: string[] = [];
  const tagOffsets = new Int32Array(rows.length + 1);
  const tagIds: number[] = [];
  rows.forEach((row, i) => {
    for (const name of new Set(row.tags)) {
      if (name.includes('|')) throw new RangeError(`tag "${name}" contains "|", the tag separator`);
      let id = tagIndex.get(name);
      if (id === undefined) {
        id = tagNames.length;
        tagIndex.set(name, id);
        tagNames.push(name);
      }
      tagIds.push(id);
    }
    tagOffsets[i + 1] = tagIds.length;
  });
  return {
    ids: rows.map((r) => r.id),
    createdAt: Float64Array.from(rows, (r) => r.createdAt),
    mediaType: Uint8Array.from(rows, (r) => MEDIA_TYPES.indexOf(r.mediaType)),
    tagNames,
    tagOffsets,
    tagIds: Int32Array.from(tagIds),
    text: rows.map((r) => r.text),
  };
}

export function writeItemsCsv(path: string, items: ItemTable): void {
  const w = new CsvWriter(path);
  w.row(ITEM_COLUMNS);
  for (let i = 0; i < items.ids.length; i++) {
    w.text(items.ids[i]);
    w.text(formatTime(items.createdAt[i]));
    w.text(MEDIA_TYPES[items.mediaType[i]]);
    w.text(itemTags(items, i).join('|'));
    w.text(items.text[i]);
    w.end();
  }
  w.close();
}
