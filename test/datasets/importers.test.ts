import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { command as datasetCommand } from '../../src/cli/commands/dataset.js';
import { CliError, ExitCode, type Command } from '../../src/cli/command.js';
import { DatasetError } from '../../src/datasets/errors.js';
import { featureRow } from '../../src/datasets/features.js';
import { floatsToHalves } from '../../src/datasets/float16.js';
import { importInteractionTable } from '../../src/datasets/interaction-table.js';
import { itemTags } from '../../src/datasets/items.js';
import { writeNpy } from '../../src/datasets/npy.js';
import { readDataset } from '../../src/datasets/read.js';
import { importTikTok } from '../../src/datasets/tiktok.js';
import { featureLayout } from '../../src/ml/pipeline/features.js';

const root = mkdtempSync(join(tmpdir(), 'memer-importers-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const TIKTOK = fileURLToPath(new URL('../../../shared/datasets/tiktok', import.meta.url));
const haveTikTok = existsSync(join(TIKTOK, 'train.csv'));

/** A (rows, dim) matrix whose value at (i, k) is i + k / 10 (row 0 col 0 is 0, so row 0 gets +1 to stay present). */
function matrix(rows: number, dim: number): Float32Array {
  return Float32Array.from({ length: rows * dim }, (_, j) => Math.floor(j / dim) + (j % dim) / 10 + (j === 0 ? 1 : 0));
}

function npy(path: string, rows: number, dim: number, dtype: 'float32' | 'float16' = 'float32'): Float32Array {
  const values = matrix(rows, dim);
  writeNpy(path, { dtype, shape: [rows, dim], data: dtype === 'float32' ? values : floatsToHalves(values, new Uint16Array(values.length)) });
  return values;
}

/** Asserts a DatasetError located at file:line whose message matches. */
const rejectsAt = (p: Promise<unknown>, file: string, line: number, message: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DatasetError, String(e));
    assert.equal(e.file, file);
    assert.equal(e.line, line);
    assert.match(e.message, line > 0 ? new RegExp(`^${e.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}: `) : /./);
    assert.match(e.message, message);
    return true;
  });

test('interactions: row = item id, any feature width (7-d float32, 3-d float16), items without interactions kept', async () => {
  const dir = join(root, 'ids');
  mkdirSync(dir);
  writeFileSync(join(dir, 'log.csv'), 'item_id,user_id,extra\n2,u1,x\n0,u2,y\n2,u2,z\n1,"u,3",w\n');
  const visual = npy(join(dir, 'v.npy'), 5, 7);
  npy(join(dir, 'a.npy'), 5, 3, 'float16');
  const out = join(dir, 'out');
  const s = await importInteractionTable(join(dir, 'log.csv'), out, { features: { visual: join(dir, 'v.npy'), audio: join(dir, 'a.npy') } });
  assert.deepEqual(
    { items: s.items, users: s.users, interactions: s.interactions, positives: s.positives, without: s.itemsWithoutInteractions, features: s.features },
    { items: 5, users: 3, interactions: { interacted: 4 }, positives: 4, without: 2, features: { visual: { dim: 7, dtype: 'float32' }, audio: { dim: 3, dtype: 'float16' } } },
  );
  const d = await readDataset(out);
  assert.deepEqual(d.items.ids, ['0', '1', '2', '3', '4']);
  assert.deepEqual(d.userIds, ['u1', 'u2', 'u,3']);
  assert.deepEqual(Array.from(d.interactions.item), [2, 0, 2, 1]);
  assert.deepEqual(Array.from(d.interactions.time), [0, 0, 0, 0], 'no time column: every time 0');
  assert.ok(d.items.createdAt.every((t) => t === 0));
  assert.deepEqual(d.features.visual?.data, visual);
  assert.equal(d.features.audio?.dtype, 'float16');
  assert.ok(Math.abs(featureRow(d.features.audio!, 3)[2] - 3.2) < 0.01);
  assert.deepEqual(featureLayout(d, 'video'), [{ modality: 'visual', dim: 7 }, { modality: 'audio', dim: 3 }]);
});

test('interactions: TSV with named columns, signals, labels, ISO/epoch times, and an items file fixing row order', async () => {
  const dir = join(root, 'named');
  mkdirSync(dir);
  writeFileSync(join(dir, 'log.tsv'), 'who\twhat\tkind\tok\twhen\nA\tp"x\tclick\t1\t2023-01-05T00:00:00Z\nB\tq\tlike\t0\t1672000000\nA\tq\tclick\t\t1672000100\n');
  writeFileSync(join(dir, 'items.tsv'), 'what\tmedia_type\ttags\ttext\nq\timage\tcat|dog\ta "dog"\nunused\t\t\t\np"x\tvideo\t\t\n');
  const visual = npy(join(dir, 'v.npy'), 3, 4);
  const out = join(dir, 'out');
  const s = await importInteractionTable(join(dir, 'log.tsv'), out, {
    columns: { user: 'who', item: 'what', signal: 'kind', label: 'ok', time: 'when' },
    items: join(dir, 'items.tsv'),
    features: { visual: join(dir, 'v.npy') },
    mediaType: 'image',
  });
  assert.deepEqual(s.interactions, { click: 2, like: 1 });
  assert.equal(s.negatives, 1);
  assert.equal(s.itemsWithoutInteractions, 1);
  const d = await readDataset(out);
  assert.deepEqual(d.items.ids, ['q', 'unused', 'p"x']);
  assert.deepEqual(Array.from(d.items.mediaType), [1, 1, 0], 'media_type from the file, --media-type for the empty one');
  assert.deepEqual(itemTags(d.items, 0), ['cat', 'dog']);
  assert.equal(d.items.text[0], 'a "dog"');
  // created_at = first interaction; an item without one gets the log's last time.
  assert.deepEqual(Array.from(d.items.createdAt), [1672000000, 1672876800, 1672876800]);
  assert.deepEqual(Array.from(d.interactions.label), [1, 0, 1]);
  assert.deepEqual(d.signals, ['click', 'like']);
  assert.deepEqual(Array.from(d.interactions.item), [2, 0, 0]);
  assert.deepEqual(d.features.visual?.data, visual, 'row i = the items file\'s i-th id');
});

test('interactions: without features or items file the items are the ids seen; --delimiter and --signal apply', async () => {
  const dir = join(root, 'plain');
  mkdirSync(dir);
  writeFileSync(join(dir, 'log.txt'), 'user_id;item_id\nu;b\nv;a\nu;a\n');
  const out = join(dir, 'out');
  const s = await importInteractionTable(join(dir, 'log.txt'), out, { delimiter: ';', signal: 'viewed' });
  assert.deepEqual(s.interactions, { viewed: 3 });
  const d = await readDataset(out);
  assert.deepEqual(d.items.ids, ['b', 'a']);
  assert.deepEqual(d.features, {});
  assert.ok(!existsSync(join(out, 'features')));
});

test('interactions: malformed input is reported with file:line and nothing is written', async () => {
  const dir = join(root, 'bad');
  mkdirSync(dir);
  npy(join(dir, 'v.npy'), 4, 2);
  const v = { visual: join(dir, 'v.npy') };
  const log = join(dir, 'log.csv');
  const out = join(dir, 'out');
  const cases: [string, number, RegExp, object?][] = [
    ['user_id,item_id\nu,1\nu,2,3\n', 3, /expected 2 fields/],
    ['user_id,item_id\nu,1\nu,4\n', 3, /item_id 4 is out of range: the feature files have 4 rows \(0\.\.3\)/],
    ['user_id,item_id\nu,01\n', 2, /"01" is not a feature row index/],
    ['user_id,item_id\nu,x\n', 2, /"x" is not a feature row index.*items file/],
    ['user_id,item_id\n,1\n', 2, /empty user_id/],
    ['user_id,item_id\nu,"1\n', 2, /unterminated quoted field/],
    ['user,item\nu,1\n', 1, /no column "user_id" \(the user column\); the header has "user", "item"/],
    ['user_id,item_id,label\nu,1,yes\n', 2, /label "yes" must be 0, 1 or empty/, { columns: { user: 'user_id', item: 'item_id', label: 'label' } }],
    ['user_id,item_id,t\nu,1,2023-02-30\n', 2, /t "2023-02-30" is neither epoch seconds nor ISO-8601/, { columns: { user: 'user_id', item: 'item_id', time: 't' } }],
    ['', 1, /empty file: no header/],
  ];
  for (const [text, line, message, extra] of cases) {
    writeFileSync(log, text);
    await rejectsAt(importInteractionTable(log, out, { features: v, ...extra }), log, line, message);
    assert.ok(!existsSync(out), `nothing written for ${JSON.stringify(text)}`);
  }
  writeFileSync(log, 'user_id,item_id\nu,1\n');
  // Feature files that disagree on rows, or with the items file.
  npy(join(dir, 'a.npy'), 5, 2);
  await rejectsAt(importInteractionTable(log, out, { features: { ...v, audio: join(dir, 'a.npy') } }), join(dir, 'a.npy'), 0, /has 5 rows but .*v\.npy has 4/);
  writeFileSync(join(dir, 'items.csv'), 'item_id\n1\n2\n');
  await rejectsAt(importInteractionTable(log, out, { features: v, items: join(dir, 'items.csv') }), join(dir, 'v.npy'), 0, /has 4 rows but .*items\.csv lists 2 items/);
  writeFileSync(join(dir, 'items.csv'), 'item_id\n1\n1\n2\n3\n');
  await rejectsAt(importInteractionTable(log, out, { features: v, items: join(dir, 'items.csv') }), join(dir, 'items.csv'), 3, /duplicate item_id "1"/);
  writeFileSync(join(dir, 'items.csv'), 'item_id\n0\n2\n3\n4\n');
  await rejectsAt(importInteractionTable(log, out, { features: v, items: join(dir, 'items.csv') }), log, 2, /item_id "1" is not in the items file/);
  writeNpy(join(dir, 'one.npy'), { dtype: 'float32', shape: [4], data: new Float32Array(4) });
  await rejectsAt(importInteractionTable(log, out, { features: { text: join(dir, 'one.npy') } }), join(dir, 'one.npy'), 0, /expected a 2-D matrix/);
  await rejectsAt(importInteractionTable(log, out, { features: { text: join(dir, 'none.npy') } }), join(dir, 'none.npy'), 0, /cannot open: ENOENT/);
  assert.ok(!existsSync(out));
});

test('interactions: a good import replaces an earlier one (other modalities removed), a bad one leaves it as it was', async () => {
  const dir = join(root, 'replace');
  mkdirSync(dir);
  npy(join(dir, 'v.npy'), 3, 2);
  npy(join(dir, 'a.npy'), 3, 5);
  const log = join(dir, 'log.csv');
  const out = join(dir, 'out');
  writeFileSync(log, 'user_id,item_id\nu,1\n');
  await importInteractionTable(log, out, { features: { visual: join(dir, 'v.npy'), audio: join(dir, 'a.npy') } });
  assert.ok(existsSync(join(out, 'features', 'audio.npy')));
  await importInteractionTable(log, out, { features: { visual: join(dir, 'v.npy') } });
  assert.ok(!existsSync(join(out, 'features', 'audio.npy')), 'the stale audio.npy is removed');
  const before = readFileSync(join(out, 'interactions.csv'), 'utf8');
  const mtime = statSync(join(out, 'items.csv')).mtimeMs;
  writeFileSync(log, 'user_id,item_id\nu,2\nv,9\n');
  await rejectsAt(importInteractionTable(log, out, { features: { visual: join(dir, 'v.npy') } }), log, 3, /out of range/);
  assert.equal(readFileSync(join(out, 'interactions.csv'), 'utf8'), before);
  assert.equal(statSync(join(out, 'items.csv')).mtimeMs, mtime);
});

/** A tiny TikTok folder: 4 items, 3 users, 5 + 1 + 1 rows; item 3 appears only in test. */
function tiktokFixture(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.csv'), 'user_id,item_id\n0,0\n0,1\n1,1\n2,0\n2,2\n');
  writeFileSync(join(dir, 'validation.csv'), 'user_id,item_id\n1,2\n');
  writeFileSync(join(dir, 'test.csv'), 'user_id,item_id\n0,3\n');
  npy(join(dir, 'image_feat.npy'), 4, 6, 'float16');
  npy(join(dir, 'audio_feat.npy'), 4, 2, 'float16');
}

test('tiktok fixture: one interacted signal, row = item id, float16 kept, splits.csv, times 0', async () => {
  const src = join(root, 'tt');
  tiktokFixture(src);
  const out = join(root, 'tt-out');
  const s = await importTikTok(src, out);
  assert.deepEqual(s.splits, { train: 5, validation: 1, test: 1 });
  assert.equal(s.itemsWithoutTrainInteractions, 1);
  assert.deepEqual(s.features, { visual: { dim: 6, dtype: 'float16' }, audio: { dim: 2, dtype: 'float16' } });
  const d = await readDataset(out);
  assert.equal(d.name, 'tt-out');
  assert.deepEqual(d.items.ids, ['0', '1', '2', '3']);
  assert.deepEqual(d.signals, ['interacted']);
  assert.equal(d.interactions.length, 7);
  assert.ok(d.items.mediaType.every((m) => m === 0));
  assert.ok(d.interactions.time.every((t) => t === 0) && d.items.createdAt.every((t) => t === 0));
  assert.deepEqual(readFileSync(join(src, 'image_feat.npy')), readFileSync(join(out, 'features', 'visual.npy')), 'bytes unchanged');
  assert.equal(readFileSync(join(out, 'splits.csv'), 'utf8'), 'user_id,item_id,split\n0,0,train\n0,1,train\n1,1,train\n2,0,train\n2,2,train\n1,2,validation\n0,3,test\n');
});

test('tiktok: missing file, malformed line, out-of-range item, wrong feature rows -> DatasetError, nothing written', async () => {
  const src = join(root, 'tt-bad');
  const out = join(root, 'tt-bad-out');
  tiktokFixture(src);
  rmSync(join(src, 'audio_feat.npy'));
  await rejectsAt(importTikTok(src, out), join(src, 'audio_feat.npy'), 0, /missing \(a TikTok folder has train\.csv/);
  tiktokFixture(src);
  writeFileSync(join(src, 'validation.csv'), 'user_id,item_id\n1,2\n1\n');
  await rejectsAt(importTikTok(src, out), join(src, 'validation.csv'), 3, /expected 2 fields/);
  writeFileSync(join(src, 'validation.csv'), 'user_id,item_id\n1,4\n');
  await rejectsAt(importTikTok(src, out), join(src, 'validation.csv'), 2, /item_id 4 is out of range: the feature files have 4 rows/);
  tiktokFixture(src);
  npy(join(src, 'audio_feat.npy'), 3, 2, 'float16');
  await rejectsAt(importTikTok(src, out), join(src, 'audio_feat.npy'), 0, /has 3 rows but .*image_feat\.npy has 4/);
  assert.ok(!existsSync(out));
});

test(
  'tiktok (real data): 6710 items, 9308 users, 68722 interactions, visual and audio 128-d',
  { skip: haveTikTok ? false : `TikTok not found at ${TIKTOK}; the real-data import test needs it` },
  async () => {
    const out = join(root, 'tiktok-real');
    const s = await importTikTok(TIKTOK, out);
    assert.deepEqual(s.splits, { train: 59541, validation: 3051, test: 6130 });
    assert.equal(s.itemsWithoutTrainInteractions, 465);
    const d = await readDataset(out);
    assert.equal(d.items.ids.length, 6710);
    assert.equal(d.userIds.length, 9308);
    assert.equal(d.interactions.length, 68722);
    assert.equal(d.features.visual?.dim, 128);
    assert.equal(d.features.audio?.dim, 128);
    assert.equal(d.features.visual?.dtype, 'float16');
  },
);

/** Runs the dataset command as main.ts would and returns its exit code and stdout lines. */
async function run(cmd: Command, args: string[]): Promise<{ code: number; out: string[] }> {
  const parsed = parseArgs({ args, options: cmd.options, allowPositionals: true, strict: true });
  const log = mock.method(console, 'log', () => {});
  try {
    const code = await cmd.run(parsed as Parameters<Command['run']>[0]);
    return { code, out: log.mock.calls.map((c) => String(c.arguments[0])) };
  } finally {
    log.mock.restore();
  }
}

test('CLI: dataset interactions and tiktok --json; usage, bad input and not-found exit codes; info hints --hash-text', async () => {
  const dir = join(root, 'cli');
  mkdirSync(dir);
  writeFileSync(join(dir, 'log.tsv'), 'u\ti\ts\nx\t0\tlike\ny\t1\tclick\n');
  npy(join(dir, 'v.npy'), 2, 7);
  const out = join(dir, 'out');
  const r = await run(datasetCommand, ['interactions', join(dir, 'log.tsv'), '--out', out, '--user-col', 'u', '--item-col', 'i', '--signal-col', 's', '--features', `visual=${join(dir, 'v.npy')}`, '--json']);
  assert.equal(r.code, ExitCode.OK);
  const s = JSON.parse(r.out[0]);
  assert.deepEqual([s.items, s.users, s.interactions, s.features.visual.dim], [2, 2, { like: 1, click: 1 }, 7]);

  const src = join(root, 'tt-cli');
  tiktokFixture(src);
  const t = await run(datasetCommand, ['tiktok', src, '--out', join(dir, 'tt')]);
  assert.match(t.out[0], /4 items \(0 without interactions\), 3 users; interactions: interacted 7 .*visual 6-d float16, audio 2-d float16.*splits: train 5, validation 1, test 1/);

  const expectCli = async (args: string[], code: number, message: RegExp) =>
    assert.rejects(run(datasetCommand, args), (e: unknown) => e instanceof CliError && e.code === code && message.test(e.message));
  const log = join(dir, 'log.tsv');
  await expectCli(['interactions', log, '--out', out, '--features', 'smell=x.npy'], ExitCode.USAGE, /--features expects MODALITY=FILE/);
  await expectCli(['interactions', log, '--out', out, '--signal', 'a', '--signal-col', 's'], ExitCode.USAGE, /--signal-col or --signal/);
  await expectCli(['interactions', log, '--out', out, '--feature-index', 'items'], ExitCode.USAGE, /needs --items/);
  await expectCli(['interactions', log, '--out', out, '--delimiter', '::'], ExitCode.USAGE, /--delimiter/);
  await expectCli(['interactions', log], ExitCode.USAGE, /needs --out/);
  await expectCli(['tiktok', src, '--out', out, '--layout', '100k'], ExitCode.USAGE, /tiktok does not take --layout/);
  await expectCli(['interactions', join(dir, 'nope.csv'), '--out', out], ExitCode.NOT_FOUND, /no such file/);
  await expectCli(['interactions', log, '--out', out, '--features', `visual=${join(dir, 'nope.npy')}`], ExitCode.NOT_FOUND, /nope\.npy: no such file/);
  await expectCli(['tiktok', join(root, 'nope'), '--out', out], ExitCode.NOT_FOUND, /no such folder/);
  await expectCli(['interactions', log, '--out', join(dir, 'out2'), '--features', `visual=${join(dir, 'v.npy')}`], ExitCode.BAD_INPUT, new RegExp(`log\\.tsv:1: no column "user_id"`));
  assert.ok(!existsSync(join(dir, 'out2')));

  writeFileSync(join(dir, 'items.csv'), 'i,text\n0,a title\n1,another\n');
  const plain = join(dir, 'plain');
  await run(datasetCommand, ['interactions', log, '--out', plain, '--user-col', 'u', '--item-col', 'i', '--items', join(dir, 'items.csv')]);
  const info = await run(datasetCommand, ['info', plain]);
  assert.match(info.out[0], /features: none \(memer evaluate --hash-text D/);
  const ttInfo = await run(datasetCommand, ['info', join(dir, 'tt')]);
  assert.doesNotMatch(ttInfo.out[0], /hash-text/);
});
