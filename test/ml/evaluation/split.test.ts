import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildItemTable } from '../../../src/datasets/items.js';
import type { Dataset } from '../../../src/datasets/types.js';
import { splitCutoff, timeSplit } from '../../../src/ml/evaluation/time-protocol.js';

/** 20 posts over 40 days, 30 users, each pair seen 3 times: repeated impressions, as in real logs. */
function repeatedPairs(): Dataset {
  const items = buildItemTable(Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, createdAt: i * 2 * 86400, mediaType: 'video' as const, tags: [], text: '' })));
  const user: number[] = [];
  const item: number[] = [];
  for (let u = 0; u < 30; u++) for (let p = 0; p < 20; p++) for (let r = 0; r < 3; r++) (user.push(u), item.push(p));
  const n = user.length;
  return {
    name: 'pairs',
    items,
    userIds: Array.from({ length: 30 }, (_, u) => `u${u}`),
    signals: ['click'],
    interactions: { length: n, user: Int32Array.from(user), item: Int32Array.from(item), signal: new Uint8Array(n), label: Uint8Array.from(user, (u, i) => (u + i) % 2), time: Float64Array.from(item, (p) => p * 2 * 86400 + 60) },
    features: {},
  };
}

test("held out by pair: no (user, post) pair of a test post is on both sides of the split", () => {
  const ds = repeatedPairs();
  const key = (i: number) => `${ds.interactions.user[i]}:${ds.interactions.item[i]}`;
  for (const by of ['pair', 'interaction'] as const) {
    const split = timeSplit(ds, 33 / 40, 0.5, 7, by);
    assert.ok(split.heldOut.length > 0);
    const held = new Set(Array.from(split.heldOut, key));
    const shared = Array.from(split.fit, key).filter((k) => held.has(k)).length;
    if (by === 'pair') assert.equal(shared, 0);
    else assert.ok(shared > 0, 'per interaction, repeated pairs land on both sides (what the pair mode prevents)');
  }
});

test('split cutoff: auto keeps at least the last 1 - f of the posts and of the span in test (an old catalogue, as ml-100k)', () => {
  // 900 posts "created" in the first week of a 200-day log, 100 spread over the rest: the span rule alone tests 2%.
  const day = 86_400;
  const c = Float64Array.from({ length: 1000 }, (_, i) => (i < 900 ? (i / 900) * 7 * day : 7 * day + ((i - 900) / 100) * 193 * day));
  const f = 33 / 40;
  const test = (cut: number) => c.filter((t) => t >= cut).length;
  assert.ok(test(splitCutoff(c, f, 'span')) < 30);
  assert.ok(test(splitCutoff(c, f, 'posts')) >= 175);
  assert.equal(splitCutoff(c, f, 'auto'), Math.min(splitCutoff(c, f, 'span'), splitCutoff(c, f, 'posts')));
  assert.ok(test(splitCutoff(c, f, 'auto')) >= 175);
  // A steady creation rate: the rules agree to within a post's spacing.
  const steady = Float64Array.from({ length: 1000 }, (_, i) => i * day);
  assert.ok(Math.abs(splitCutoff(steady, f, 'span') - splitCutoff(steady, f, 'posts')) <= day);
});

test('split cutoff: a bulk-loaded catalogue (most posts at the first time) still has training posts', () => {
  const c = Float64Array.from({ length: 100 }, (_, i) => (i < 90 ? 0 : i));
  for (const on of ['posts', 'auto'] as const) {
    const cut = splitCutoff(c, 33 / 40, on);
    assert.ok(c.some((t) => t < cut) && c.some((t) => t >= cut), `${on}: ${cut}`);
  }
});
