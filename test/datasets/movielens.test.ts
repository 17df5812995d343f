import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importMovieLens, detectLayout } from '../../src/datasets/movielens/index.js';
import { readDataset } from '../../src/datasets/read.js';
import { itemTags } from '../../src/datasets/items.js';
import { DatasetError } from '../../src/datasets/errors.js';

const root = mkdtempSync(join(tmpdir(), 'memer-ml-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const LATEST_SMALL = fileURLToPath(new URL('../../../shared/datasets/ml-latest-small', import.meta.url));
const haveLatestSmall = existsSync(join(LATEST_SMALL, 'ratings.csv'));

/** Counts per signal and positives per signal from a loaded dataset. */
function perSignal(d: Awaited<ReturnType<typeof readDataset>>): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const s of d.signals) out[s] = [0, 0];
  for (let i = 0; i < d.interactions.length; i++) {
    const c = out[d.signals[d.interactions.signal[i]]];
    c[0]++;
    c[1] += d.interactions.label[i];
  }
  return out;
}

test(
  'ml-latest-small: 100836 ratings, 610 users, 9742 movies, 3683 tags; created_at = first interaction',
  { skip: haveLatestSmall ? false : `ml-latest-small not found at ${LATEST_SMALL}; the real-data import test needs it` },
  async () => {
    const out = join(root, 'latest');
    assert.equal(detectLayout(LATEST_SMALL), 'latest-small');
    const summary = await importMovieLens(LATEST_SMALL, out);
    assert.deepEqual(summary.interactions, { rated: 100836, liked: 100836, tagged: 3683 });
    assert.equal(summary.likedPositives, 48580);
    assert.equal(summary.itemsWithoutInteractions, 0);
    const d = await readDataset(out);
    assert.equal(d.items.ids.length, 9742);
    assert.equal(d.userIds.length, 610);
    assert.deepEqual(perSignal(d), { rated: [100836, 100836], liked: [100836, 48580], tagged: [3683, 3683] });
    assert.ok(d.items.mediaType.every((m) => m === 0), 'every movie is a video');
    // Genres become tags ("(no genres listed)" becomes none): 19 distinct.
    assert.equal(d.items.tagNames.length, 19);
    const toy = d.items.ids.indexOf('1');
    assert.equal(d.items.text[toy], 'Toy Story (1995)');
    assert.deepEqual(itemTags(d.items, toy), ['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy']);
    assert.equal(d.items.createdAt[toy], 829322340);
    // Movie 1076 has tags but no rating: its first interaction is its first tag.
    assert.equal(d.items.createdAt[d.items.ids.indexOf('1076')], 1137521394);
    assert.equal(d.items.text[d.items.ids.indexOf('11')], 'American President, The (1995)');
  },
);

/** A tiny ml-100k folder: 4 movies (one title in latin1, one with a quote), 3 users, 7 ratings. */
function ml100kFixture(dir: string, withGenreFile: boolean): void {
  mkdirSync(dir, { recursive: true });
  const flags = (on: number[]) => Array.from({ length: 19 }, (_, k) => (on.includes(k) ? '1' : '0')).join('|');
  const items = [
    `1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|${flags([3, 4, 5])}`,
    `2|Cit\xe9 des enfants perdus, La (1995)|01-Jan-1995||http://x|${flags([2, 8])}`,
    `3|"Quoted" Title (1996)|01-Jan-1996||http://y|${flags([0])}`,
    `4|Never Rated (1997)|01-Jan-1997||http://z|${flags([18])}`,
  ];
  writeFileSync(join(dir, 'u.item'), Buffer.from(items.join('\n') + '\n', 'latin1'));
  const data = ['1\t1\t5\t881250949', '1\t2\t3\t881250000', '2\t1\t4\t881251000', '2\t3\t1\t891717742', '3\t2\t4\t878887116', '3\t1\t2\t880000000', '1\t3\t4\t881250100'];
  writeFileSync(join(dir, 'u.data'), data.join('\n') + '\n');
  writeFileSync(join(dir, 'u.user'), '1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|32067\n4|24|M|technician|43537\n');
  if (withGenreFile) {
    const names = ['unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy', 'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western'];
    writeFileSync(join(dir, 'u.genre'), names.map((n, k) => `${n}|${k}`).join('\n') + '\n\n');
  }
}

for (const withGenreFile of [true, false]) {
  test(`ml-100k fixture (${withGenreFile ? 'with' : 'without'} u.genre): signals, genres, latin1 titles, users.csv attributes`, async () => {
    const src = join(root, `100k-src-${withGenreFile}`);
    const out = join(root, `100k-out-${withGenreFile}`);
    ml100kFixture(src, withGenreFile);
    assert.equal(detectLayout(src), '100k');
    const summary = await importMovieLens(src, out, 'auto');
    assert.deepEqual(summary.interactions, { rated: 7, liked: 7 });
    assert.equal(summary.likedPositives, 4);
    assert.equal(summary.itemsWithoutInteractions, 1);
    assert.equal(summary.users, 4);
    const d = await readDataset(out);
    assert.deepEqual(d.items.ids, ['1', '2', '3', '4']);
    assert.equal(d.items.text[1], 'Cité des enfants perdus, La (1995)');
    assert.equal(d.items.text[2], '"Quoted" Title (1996)');
    assert.deepEqual(itemTags(d.items, 0), ['Animation', "Children's", 'Comedy']);
    assert.deepEqual(itemTags(d.items, 2), [], 'the "unknown" genre is not a tag');
    assert.deepEqual(Array.from(d.items.createdAt), [880000000, 878887116, 881250100, 891717742]);
    assert.deepEqual(d.userIds, ['1', '2', '3', '4']);
    assert.deepEqual(perSignal(d), { rated: [7, 7], liked: [7, 4] });
    assert.match(readFileSync(join(out, 'users.csv'), 'utf8'), /^user_id,age,gender,occupation,zip_code\n1,24,M,technician,85711\n/);
  });
}

test('ml-100k: a malformed u.data row is reported with file and line; unknown folder is refused', async () => {
  const src = join(root, '100k-bad');
  ml100kFixture(src, false);
  writeFileSync(join(src, 'u.data'), '1\t1\t5\t881250949\n1\t9\t3\t881250000\n');
  await assert.rejects(importMovieLens(src, join(root, 'bad-out')), (e: unknown) => e instanceof DatasetError && e.file === join(src, 'u.data') && e.line === 2 && /"9" is not in u.item/.test(e.message));
  writeFileSync(join(src, 'u.data'), '1\t1\t5\n');
  await assert.rejects(importMovieLens(src, join(root, 'bad-out')), (e: unknown) => e instanceof DatasetError && e.line === 1 && /expected 4/.test(e.message));
  assert.throws(() => detectLayout(root), DatasetError);
});
