import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset } from '../../src/datasets/read.js';
import { writeDataset } from '../../src/datasets/write.js';
import { iterateInteractionsCsv } from '../../src/datasets/interactions.js';
import { itemTags } from '../../src/datasets/items.js';
import { featurePresence, featureRow } from '../../src/datasets/features.js';
import { writeNpy } from '../../src/datasets/npy.js';
import { DatasetError } from '../../src/datasets/errors.js';

const root = mkdtempSync(join(tmpdir(), 'memer-ds-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, body] of Object.entries(files)) writeFileSync(join(dir, file), body);
  return dir;
}

const ITEMS = [
  'item_id,created_at,media_type,tags,text',
  'v1,2023-01-01T00:00:00Z,video,comedy|wishes,"Hello, world"',
  'i1,1672617600,image,,"multi\r\nline ""quoted"""',
  'v2,2023-01-03,video,wishes|wishes,',
].join('\r\n');
const INTERACTIONS = [
  'user_id,item_id,signal,timestamp,label',
  'u1,v1,click,1672531300,1',
  'u2,v1,click,2023-01-01T00:05:00Z,0',
  'u1,i1,like,1672617700,',
  'u3,v2,video_play,1672704000.5,1',
].join('\n');

test('reads a folder: ids to dense indices, both time formats, default label, tags CSR, optional users.csv', async () => {
  const dir = folder('basic', { 'items.csv': ITEMS, 'interactions.csv': INTERACTIONS + '\n', 'users.csv': 'user_id,age\nu9,30\nu2,41\n' });
  const d = await readDataset(dir);
  assert.equal(d.name, 'basic');
  assert.deepEqual(d.items.ids, ['v1', 'i1', 'v2']);
  assert.deepEqual(Array.from(d.items.createdAt), [1672531200, 1672617600, 1672704000]);
  assert.deepEqual(Array.from(d.items.mediaType), [0, 1, 0]);
  assert.deepEqual([0, 1, 2].map((i) => itemTags(d.items, i)), [['comedy', 'wishes'], [], ['wishes']]);
  assert.equal(d.items.text[1], 'multi\r\nline "quoted"');
  assert.deepEqual(d.userIds, ['u9', 'u2', 'u1', 'u3']);
  assert.deepEqual(d.signals, ['click', 'like', 'video_play']);
  const t = d.interactions;
  assert.equal(t.length, 4);
  assert.deepEqual(Array.from(t.user), [2, 1, 2, 3]);
  assert.deepEqual(Array.from(t.item), [0, 0, 1, 2]);
  assert.deepEqual(Array.from(t.signal), [0, 0, 1, 2]);
  assert.deepEqual(Array.from(t.label), [1, 0, 1, 1]);
  assert.deepEqual(Array.from(t.time), [1672531300, 1672531500, 1672617700, 1672704000.5]);
  assert.deepEqual(d.features, {});
});

test('write -> read round trip keeps every column, user order and features (float32 and float16)', async () => {
  const src = await readDataset(folder('rt-src', { 'items.csv': ITEMS, 'interactions.csv': INTERACTIONS }));
  src.features.visual = { rows: 3, dim: 4, dtype: 'float32', data: Float32Array.from([1, 2, 3, 4, 0, 0, 0, 0, -1, 0.5, 0, 0]) };
  src.features.audio = { rows: 3, dim: 2, dtype: 'float16', data: Uint16Array.from([0x3c00, 0, 0, 0x8000, 0xc000, 0x3800]) };
  const out = join(root, 'rt-out');
  await writeDataset(out, src);
  const back = await readDataset(out);
  assert.deepEqual(back.items, src.items);
  assert.deepEqual(back.userIds, src.userIds);
  assert.deepEqual(back.signals, src.signals);
  assert.deepEqual(back.interactions, src.interactions);
  assert.deepEqual(back.features, src.features);
  assert.deepEqual(Array.from(featurePresence(back.features.visual!)), [1, 0, 1]);
  assert.deepEqual(Array.from(featurePresence(back.features.audio!)), [1, 0, 1]);
  assert.deepEqual(Array.from(featureRow(back.features.audio!, 2)), [-2, 0.5]);
  const only = await readDataset(out, { features: ['audio'] });
  assert.deepEqual(Object.keys(only.features), ['audio']);
});

test('malformed rows are DatasetErrors naming the file and line, never skipped', async () => {
  const cases: [string, Record<string, string>, string, number, RegExp][] = [
    ['bad-label', { 'interactions.csv': 'user_id,item_id,signal,timestamp,label\nu1,v1,click,1,1\nu1,v1,click,1,2\n' }, 'interactions.csv', 3, /label "2"/],
    ['bad-time', { 'interactions.csv': 'user_id,item_id,signal,timestamp\nu1,v1,click,soon\n' }, 'interactions.csv', 2, /timestamp "soon"/],
    ['unknown-item', { 'interactions.csv': 'user_id,item_id,signal,timestamp\nu1,v1,click,1\nu1,zz,click,1\n' }, 'interactions.csv', 3, /"zz" is not in items.csv/],
    ['short-row', { 'interactions.csv': 'user_id,item_id,signal,timestamp\nu1,v1,click\n' }, 'interactions.csv', 2, /expected 4 fields/],
    ['no-column', { 'interactions.csv': 'user,item_id,signal,timestamp\n' }, 'interactions.csv', 1, /lacks column\(s\) user_id/],
    ['bad-media', { 'items.csv': 'item_id,created_at,media_type\nv1,1,audio\n' }, 'items.csv', 2, /media_type "audio"/],
    ['dup-item', { 'items.csv': 'item_id,created_at,media_type\nv1,1,video\n"v1",2,image\n' }, 'items.csv', 3, /duplicate item_id "v1"/],
    ['bad-quote', { 'items.csv': 'item_id,created_at,media_type,text\nv1,1,video,"multi\nline"\nv2,1,video,he said "no"\n' }, 'items.csv', 4, /quote inside/],
  ];
  for (const [name, files, file, line, why] of cases) {
    const dir = folder(name, { 'items.csv': 'item_id,created_at,media_type\nv1,1,video\n', 'interactions.csv': 'user_id,item_id,signal,timestamp\n', ...files });
    await assert.rejects(
      readDataset(dir),
      (e: unknown) => e instanceof DatasetError && e.file === join(dir, file) && e.line === line && why.test(e.message) && e.message.startsWith(`${join(dir, file)}:${line}:`),
      name,
    );
  }
});

test('a feature file whose row count differs from items.csv is rejected', async () => {
  const dir = folder('feat-rows', { 'items.csv': ITEMS, 'interactions.csv': INTERACTIONS });
  mkdirSync(join(dir, 'features'));
  writeNpy(join(dir, 'features', 'text.npy'), { dtype: 'float32', shape: [2, 3], data: new Float32Array(6) });
  await assert.rejects(readDataset(dir), (e: unknown) => e instanceof DatasetError && /has 2 rows but items.csv has 3 items/.test(e.message));
  await readDataset(dir, { features: false });
});

test('iterateInteractionsCsv streams columnar batches with growing dictionaries', async () => {
  const lines = ['user_id,item_id,signal,timestamp,label'];
  for (let i = 0; i < 5000; i++) lines.push(`u${i % 37},p${i % 101},${i % 3 ? 'click' : 'skip'},${1000 + i},${i % 2}`);
  const dir = folder('stream', { 'interactions.csv': lines.join('\n') });
  let rows = 0;
  let batches = 0;
  let last: { userIds: readonly string[]; itemIds: readonly string[]; signals: readonly string[] } | undefined;
  for await (const batch of iterateInteractionsCsv(join(dir, 'interactions.csv'), { batchSize: 1000, chunkBytes: 4096 })) {
    for (let k = 0; k < batch.rows.length; k++) {
      const i = rows + k;
      assert.equal(batch.userIds[batch.rows.user[k]], `u${i % 37}`);
      assert.equal(batch.itemIds[batch.rows.item[k]], `p${i % 101}`);
      assert.equal(batch.rows.time[k], 1000 + i);
      assert.equal(batch.rows.label[k], i % 2);
    }
    rows += batch.rows.length;
    batches++;
    last = batch;
  }
  assert.equal(rows, 5000);
  assert.ok(batches >= 4, `${batches} batches`);
  assert.equal(last?.userIds.length, 37);
  assert.deepEqual(last?.signals, ['skip', 'click']);
});
