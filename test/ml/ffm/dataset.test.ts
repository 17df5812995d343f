import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dataset } from '../../../src/datasets/types.js';
import { trainBackbones } from '../../../src/ml/ffm/backbones.js';
import { bytesPerRow, validateFfmData } from '../../../src/ml/ffm/data.js';
import { buildSignalRows, hourOfDay, positivePairs, selectInteractions } from '../../../src/ml/ffm/dataset.js';
import { FfmError } from '../../../src/ml/ffm/errors.js';
import { syntheticDataset } from '../../../src/ml/ffm/synthetic-dataset.js';

/** 3 users, 4 posts (0, 1 video; 2, 3 image), signal "play" positives only, "like" with explicit negatives. */
function tiny(): Dataset {
  const rows = [
    // user, item, signal, label, time
    [0, 0, 0, 1, 3600 * 5],
    [1, 0, 0, 1, 3600 * 6],
    [2, 1, 0, 1, 3600 * 7],
    [0, 2, 0, 1, 3600 * 30],
    [1, 3, 1, 0, 3600 * 8],
    [2, 3, 1, 1, 3600 * 2],
  ];
  const col = (j: number) => rows.map((r) => r[j]);
  return {
    name: 'tiny',
    items: {
      ids: ['a', 'b', 'c', 'd'],
      createdAt: new Float64Array(4),
      mediaType: Uint8Array.from([0, 0, 1, 1]),
      tagNames: ['x', 'y', 'z'],
      tagOffsets: Int32Array.from([0, 1, 3, 3, 4]),
      tagIds: Int32Array.from([0, 1, 2, 0]),
      text: ['', '', '', ''],
    },
    userIds: ['u0', 'u1', 'u2'],
    signals: ['play', 'like'],
    interactions: {
      length: rows.length,
      user: Int32Array.from(col(0)),
      item: Int32Array.from(col(1)),
      signal: Uint8Array.from(col(2)),
      label: Uint8Array.from(col(3)),
      time: Float64Array.from(col(4)),
    },
    features: {},
  };
}

test('rows of a positives-only signal get sampled negatives that differ from the positive post', () => {
  const ds = tiny();
  const r = buildSignalRows(ds, { signal: 'play', negatives: { ratio: 3 }, contextFields: ['hour', 'media', 'tags'] });
  validateFfmData(r.data);
  assert.equal(r.positives, 4);
  assert.equal(r.explicitNegatives, 0);
  assert.equal(r.sampledNegatives, 12);
  assert.equal(r.data.rows, 16);
  assert.deepEqual(r.data.space.fields.map((f) => f.name), ['user', 'post', 'hour', 'media', 'tags']);
  for (let i = 0; i < r.data.rows; i++) {
    const s = r.data.offsets[i];
    const post = r.data.features[s + 1] - r.data.space.offsets[1];
    if (r.source[i] >= 0) {
      assert.equal(r.data.labels[i], 1);
      assert.equal(post, ds.interactions.item[r.source[i]]);
      assert.equal(r.data.features[s + 2] - r.data.space.offsets[2], hourOfDay(ds.interactions.time[r.source[i]]));
    } else {
      assert.equal(r.data.labels[i], 0);
      let j = i - 1;
      while (r.source[j] < 0) j--;
      assert.notEqual(post, ds.interactions.item[r.source[j]], 'a negative is never the positive post');
      assert.equal(r.data.features[s], r.data.features[r.data.offsets[j]], 'same user as its positive');
    }
  }
  // Post 1 has two tags: two entries of value 1/sqrt(2); the other rows have unit values.
  const row = Array.from(r.source).indexOf(2);
  const vals = r.data.values!.subarray(r.data.offsets[row], r.data.offsets[row + 1]);
  assert.deepEqual(Array.from(vals.subarray(0, 4)), [1, 1, 1, 1]);
  assert.ok(Math.abs(vals[4] - Math.SQRT1_2) < 1e-7 && Math.abs(vals[5] - Math.SQRT1_2) < 1e-7);
  assert.equal(hourOfDay(-1), 23);
});

test('exclude: an excluded (user, post) is never a sampled negative; when every other post is excluded the positive gets none', () => {
  const ds = syntheticDataset({ signals: [{ name: 'play', positivesOnly: true, bias: 0 }], seed: 6 });
  const odd = (user: number, item: number) => (user + item) % 2 === 1;
  const r = buildSignalRows(ds, { signal: 'play', negatives: { ratio: 2 }, exclude: odd, seed: 2 });
  let negatives = 0;
  for (let i = 0; i < r.data.rows; i++) {
    if (r.source[i] >= 0) continue;
    const s = r.data.offsets[i];
    const user = r.data.features[s] - r.data.space.offsets[0];
    const post = r.data.features[s + 1] - r.data.space.offsets[1];
    assert.ok(!odd(user, post), `negative (${user}, ${post}) is excluded`);
    negatives++;
  }
  assert.ok(negatives > 1.9 * r.positives, `${negatives} negatives for ${r.positives} positives`);
  const none = buildSignalRows(ds, { signal: 'play', negatives: { ratio: 1 }, exclude: () => true, seed: 2 });
  assert.equal(none.sampledNegatives, 0);
  assert.equal(none.data.rows, none.positives);
});

test("negatives.exclude 'positives': no sampled negative is a pair the user has a positive for; bad values are BAD_PARAM", () => {
  const ds = syntheticDataset({ signals: [{ name: 'play', positivesOnly: true, bias: 0 }], seed: 8 });
  const own = positivePairs(ds, 'play');
  const check = (exclude: 'none' | 'positives') => {
    const r = buildSignalRows(ds, { signal: 'play', negatives: { exclude }, seed: 3 });
    let hits = 0;
    for (let i = 0; i < r.data.rows; i++) {
      if (r.source[i] >= 0) continue;
      const s = r.data.offsets[i];
      if (own(r.data.features[s] - r.data.space.offsets[0], r.data.features[s + 1] - r.data.space.offsets[1])) hits++;
    }
    return hits;
  };
  assert.equal(check('positives'), 0);
  assert.ok(check('none') > 0, 'without the check some negatives are the user\'s own positives');
  assert.throws(() => buildSignalRows(ds, { signal: 'play', negatives: { exclude: 'all' as 'none' } }), (e: unknown) => e instanceof FfmError && e.code === 'BAD_PARAM');
});

test('negatives follow positive counts (popularity) or are flat over seen posts (uniform); tolerance 5 sd', () => {
  const ds = syntheticDataset({ signals: [{ name: 'play', positivesOnly: true, bias: 0 }], skew: 1.2, seed: 4 });
  const rows = selectInteractions(ds, 'play');
  const counts = new Float64Array(ds.items.ids.length);
  for (const i of rows) counts[ds.interactions.item[i]]++;
  const top = counts.indexOf(Math.max(...counts));
  for (const sampling of ['popularity', 'uniform'] as const) {
    const r = buildSignalRows(ds, { signal: 'play', negatives: { ratio: 4, sampling }, seed: 9 });
    // Expected hits on the top post: a negative drawn for a positive of post q avoids q, so it lands on the top post
    // with probability w_top / (1 - w_q) (w = popularity share, or 1/seen for uniform), and never when q is the top post.
    const seen = counts.filter((c) => c > 0).length;
    const share = (q: number) => (sampling === 'popularity' ? counts[q] / rows.length : 1 / seen);
    let hits = 0, total = 0, expected = 0, variance = 0, last = -1;
    for (let i = 0; i < r.data.rows; i++) {
      if (r.source[i] >= 0) {
        last = ds.interactions.item[r.source[i]];
        continue;
      }
      total++;
      const p = last === top ? 0 : share(top) / (1 - share(last));
      expected += p;
      variance += p * (1 - p);
      if (r.data.features[r.data.offsets[i] + 1] - r.data.space.offsets[1] === top) hits++;
    }
    assert.ok(total > 30_000);
    assert.ok(Math.abs(hits - expected) < 5 * Math.sqrt(variance), `${sampling}: ${hits} of ${total}, expected ${expected}`);
  }
});
test('explicit negatives are kept and, in auto mode, no negatives are sampled', () => {
  const ds = tiny();
  const r = buildSignalRows(ds, { signal: 'like' });
  assert.equal(r.data.rows, 2);
  assert.equal(r.sampledNegatives, 0);
  assert.deepEqual(Array.from(r.data.labels), [1, 0], 'time order: the label-1 row comes first');
  const always = buildSignalRows(ds, { signal: 'like', negatives: { mode: 'always', ratio: 1 } });
  assert.equal(always.explicitNegatives, 1);
  assert.equal(always.sampledNegatives, 0, 'only one post occurs in "like": no other post to sample');
  assert.equal(buildSignalRows(ds, { signal: 'play', negatives: { mode: 'never' } }).data.rows, 4);
  assert.equal(buildSignalRows(ds, { signal: 'play', mediaType: 'image', negatives: { mode: 'never' } }).data.rows, 1);
});

test('bad dataset input gives a typed FfmError', () => {
  const code = (c: string) => (e: unknown) => e instanceof FfmError && e.code === c;
  const ds = tiny();
  assert.throws(() => buildSignalRows(ds, { signal: 'play', contextFields: ['weather'] }), code('UNKNOWN_FIELD'));
  assert.throws(() => buildSignalRows(ds, { signal: 'share' }), code('UNKNOWN_SIGNAL'));
  assert.throws(() => buildSignalRows(ds, { signal: 'like', mediaType: 'video' }), code('EMPTY_DATA'));
  assert.throws(() => buildSignalRows(ds, { signal: 'play', negatives: { ratio: -1 } }), code('BAD_PARAM'));
  const nan = tiny();
  nan.interactions.time[2] = NaN;
  assert.throws(() => buildSignalRows(nan, { signal: 'play' }), code('NON_FINITE'));
  const badUser = tiny();
  badUser.interactions.user[0] = 7;
  assert.throws(() => buildSignalRows(badUser, { signal: 'play' }), code('BAD_INDEX'));
});

test('one backbone per signal and media type, with embeddings and full vs dot AUC', async () => {
  // Planted AUC on these rows (v_u . v_p of the generator): play 0.66 (positives only, popularity negatives), like 0.83.
  const ds = syntheticDataset({ seed: 2, eventsPerSignal: 80_000 });
  const backbones = await trainBackbones(ds, { byMediaType: true, contextFields: ['hour'], params: { k: 8, seed: 2 } });
  assert.deepEqual(backbones.map((b) => b.key), ['play/video', 'play/image', 'like/video', 'like/image']);
  for (const b of backbones) {
    assert.equal(b.embeddings.posts.length, ds.items.ids.length * 8);
    assert.equal(b.embeddings.users.length, ds.userIds.length * 8);
    const floor = b.signal === 'play' ? 0.57 : 0.72;
    assert.ok(b.validation !== null && b.validation.aucFull > floor && b.validation.aucDot > floor, `${b.key}: ${JSON.stringify(b.validation)}`);
    assert.equal(b.bytesPerRow, 5 + 3 * 5);
  }
  const perSignal = await trainBackbones(ds, { signals: ['like'], params: { k: 8, epochs: 2 } });
  assert.deepEqual(perSignal.map((b) => b.key), ['like']);
  assert.equal(bytesPerRow(buildSignalRows(ds, { signal: 'like' }).data), 15);
});
