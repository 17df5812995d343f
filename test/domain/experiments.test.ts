/**
 * The parts of online experiments that need no database: assignment, validation, the statistics of the report, the
 * exposure log's batching, bounds and draining, and the rule by which a baseline arm ranks early-stage posts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { armOf, bucketOf } from '../../src/domain/experiments/assignment.js';
import { normalizeExperiment } from '../../src/domain/experiments/experiment.validation.js';
import { packPosts, packSources, unpackPosts, type ExposureRow } from '../../src/domain/experiments/experiment.types.js';
import { ExposureLog, type ExposureSink } from '../../src/domain/experiments/exposure-log.js';
import { buildReport, metricDefs } from '../../src/domain/experiments/report.js';
import { chiSquareSurvival, ratio, relativeGain, sampleRatio } from '../../src/domain/experiments/statistics.js';
import { ArmVariant, armServing } from '../../src/domain/recommend/arm-variant.js';
import { metaSource } from '../../src/domain/recommend/index-meta.js';
import { AppError } from '../../src/errors.js';
import { createLogger } from '../../src/lib/logger.js';

const arms = (...shares: number[]) => shares.map((share, ordinal) => ({ ordinal, name: `a${ordinal}`, share, source: 'MEMER' as const }));
const silent = createLogger('error', () => undefined);

describe('assignment', () => {
  test('is a pure function of (experiment, user): stable, and independent across experiments', () => {
    assert.equal(bucketOf('exp', 'u1'), bucketOf('exp', 'u1'));
    assert.notEqual(bucketOf('exp', 'u1'), bucketOf('exp2', 'u1'));
    // The known value pins the hash (sha256, first 48 bits) so that a change of it is deliberate: arms would move.
    assert.equal(bucketOf('exp', 'u1'), 0.04550784508201744);
    const n = 20_000;
    let both = 0;
    for (let i = 0; i < n; i++) if (bucketOf('a', `u${i}`) < 0.5 && bucketOf('b', `u${i}`) < 0.5) both++;
    assert.ok(Math.abs(both / n - 0.25) < 0.015, `${both / n}`);
  });

  test('arms get their shares; users past the shares are in no arm', () => {
    const n = 30_000;
    const counts = [0, 0, 0];
    let none = 0;
    for (let i = 0; i < n; i++) {
      const arm = armOf('split', arms(0.1, 0.3, 0.2), `user-${i}`);
      if (arm) counts[arm.ordinal]++;
      else none++;
    }
    for (const [i, share] of [0.1, 0.3, 0.2].entries()) assert.ok(Math.abs(counts[i] / n - share) < 0.01, `arm ${i}: ${counts[i] / n}`);
    assert.ok(Math.abs(none / n - 0.4) < 0.01);
    const p = sampleRatio(counts, [0.1, 0.3, 0.2]);
    assert.equal(p.mismatch, false, JSON.stringify(p));
  });
});

describe('validation', () => {
  const input = { name: 'e1', signal: 'click', arms: [{ name: 'control', share: 0.5, source: 'TAG_AVG' }, { name: 'test', share: 0.5, source: 'MEMER' }] };
  const fails = (patch: Record<string, unknown>, path: RegExp) => {
    assert.throws(() => normalizeExperiment({ ...input, ...patch } as never), (err: unknown) => err instanceof AppError && err.code === 'BAD_USER_INPUT' && path.test(String(err.details.path)));
  };

  test('accepts a definition, with defaults', () => {
    const n = normalizeExperiment(input);
    assert.equal(n.attributionWindowS, 86_400);
    assert.equal(n.start, true);
    assert.deepEqual(n.arms.map((a) => [a.ordinal, a.name, a.source]), [[0, 'control', 'TAG_AVG'], [1, 'test', 'MEMER']]);
  });

  test('names each mistake', () => {
    fails({ name: 'has space' }, /^input\.name$/);
    fails({ arms: [input.arms[0]] }, /^input\.arms$/);
    fails({ arms: [input.arms[0], { ...input.arms[1], name: 'control' }] }, /arms\[1\]\.name/);
    fails({ arms: [input.arms[0], { ...input.arms[1], share: 0 }] }, /arms\[1\]\.share/);
    fails({ arms: [input.arms[0], { ...input.arms[1], share: 0.51 }] }, /^input\.arms$/);
    fails({ arms: [input.arms[0], { ...input.arms[1], source: 'AUTO' }] }, /arms\[1\]\.source/);
    fails({ arms: [input.arms[0], { ...input.arms[1], source: 'MATURE' }] }, /arms\[1\]\.source/);
    fails({ attributionWindowSeconds: 0 }, /attributionWindowSeconds/);
    fails({ attributionWindowSeconds: 1.5 }, /attributionWindowSeconds/);
  });

  test('shares of thirds sum to 1 within rounding', () => {
    assert.equal(normalizeExperiment({ ...input, arms: [0, 1, 2].map((i) => ({ name: `a${i}`, share: 1 / 3, source: 'MEMER' })) }).arms.length, 3);
  });
});

describe('statistics', () => {
  test('ratio: with one impression per user the delta-method variance is the sample variance over n', () => {
    const y = [1, 0, 0, 1, 0, 0, 0, 1, 0, 0];
    const r = ratio(new Array(10).fill(1), y);
    assert.equal(r.value, 0.3);
    const s2 = y.reduce((s, v) => s + (v - 0.3) ** 2, 0) / 9;
    assert.ok(Math.abs(r.variance! - s2 / 10) < 1e-15);
    assert.equal(ratio([0, 0], [0, 0]).value, null);
    assert.equal(ratio([3], [1]).variance, null, 'one user: no interval');
  });

  test('ratio: the delta method matches a bootstrap over users', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 400; i++) {
      const n = 1 + Math.floor(rand() * 20);
      const p = 0.05 + 0.2 * rand();
      let c = 0;
      for (let k = 0; k < n; k++) if (rand() < p) c++;
      x.push(n);
      y.push(c);
    }
    const delta = ratio(x, y).variance!;
    const boots: number[] = [];
    for (let b = 0; b < 2000; b++) {
      let sx = 0;
      let sy = 0;
      for (let i = 0; i < x.length; i++) {
        const j = Math.floor(rand() * x.length);
        sx += x[j];
        sy += y[j];
      }
      boots.push(sy / sx);
    }
    const m = boots.reduce((a, b) => a + b, 0) / boots.length;
    const boot = boots.reduce((s, v) => s + (v - m) ** 2, 0) / (boots.length - 1);
    assert.ok(Math.abs(delta / boot - 1) < 0.15, `delta ${delta} bootstrap ${boot}`);
  });

  test('relative gain: the point, an interval around it that never goes below -100%, null against a zero control', () => {
    const control = ratio(new Array(1000).fill(10), Array.from({ length: 1000 }, (_, i) => (i % 2 ? 1 : 0)));
    const test = ratio(new Array(1000).fill(10), Array.from({ length: 1000 }, (_, i) => (i % 4 === 0 ? 0 : 1)));
    const g = relativeGain(test, control);
    assert.ok(Math.abs(g.value! - 0.5) < 1e-12);
    assert.ok(g.low! > 0 && g.low! < 0.5 && g.high! > 0.5);
    const small = relativeGain(ratio([5, 5], [0, 1]), ratio([5, 5], [3, 0]));
    assert.ok(small.low! >= -1);
    assert.equal(relativeGain(test, ratio([1, 1], [0, 0])).value, null);
    // No event in 26 impressions against a 5% control: -100% at the point, but the exact Poisson bound for 0 events
    // (3.689 / 26 = 14.2%) keeps the interval up to +184%, so it is no verdict of "worse".
    const zero = relativeGain(ratio([13, 13], [0, 0]), ratio(new Array(100).fill(20), new Array(100).fill(1)));
    assert.equal(zero.value, -1);
    assert.equal(zero.low, -1);
    assert.ok(Math.abs(zero.high! - (-Math.log(0.025) / 26 / 0.05 - 1)) < 1e-12, String(zero.high));
  });

  test('chi-square survival and the sample-ratio check', () => {
    assert.ok(Math.abs(chiSquareSurvival(3.841458820694124, 1) - 0.05) < 1e-9);
    assert.ok(Math.abs(chiSquareSurvival(5.991464547107979, 2) - 0.05) < 1e-9);
    assert.ok(Math.abs(chiSquareSurvival(16.918977604620448, 9) - 0.05) < 1e-9);
    assert.ok(Math.abs(chiSquareSurvival(0.5, 3) - 0.9188914116546758) < 1e-12);
    assert.equal(chiSquareSurvival(0, 2), 1);
    const ok = sampleRatio([5040, 4960], [0.5, 0.5]);
    assert.equal(ok.mismatch, false);
    const bad = sampleRatio([5300, 4700], [0.5, 0.5]);
    assert.equal(bad.mismatch, true, JSON.stringify(bad));
    assert.ok(Math.abs(bad.chiSquare - 36) < 1e-9);
    assert.deepEqual(sampleRatio([0, 0], [0.1, 0.1]).pValue, 1);
    assert.deepEqual(sampleRatio([100, 300], [0.05, 0.15]).mismatch, false, 'shares count relative to each other');
  });

  test('metrics: the paper\'s four where their signals exist, then interactions per view and one per signal', () => {
    const signals = [
      { key: 1, name: 'click', mediaTypes: ['VIDEO', 'IMAGE'] as ('VIDEO' | 'IMAGE')[] },
      { key: 2, name: 'like', mediaTypes: ['VIDEO', 'IMAGE'] as ('VIDEO' | 'IMAGE')[] },
      { key: 5, name: 'video_play', mediaTypes: ['VIDEO'] as ('VIDEO' | 'IMAGE')[] },
    ];
    const defs = metricDefs(signals);
    assert.deepEqual(defs.map((d) => d.metric), ['ctr', 'engagements_per_view', 'plays_per_view', 'interactions_per_view', 'click', 'like', 'video_play', 'clicks_per_user']);
    assert.deepEqual([...defs[2].media], ['VIDEO'], 'plays are per video impression');
    assert.equal(defs.at(-1)!.per, 'user');
  });

  test("clicks_per_user: a tag's clicks over every user of the arm, where its CTR counts only the users shown the tag", () => {
    const signals = [{ key: 1, name: 'click', mediaTypes: ['VIDEO', 'IMAGE'] as ('VIDEO' | 'IMAGE')[] }];
    const user = (arm: number, image: number, clicks: number) => ({ arm, video: 0, image, conversions: Float64Array.of(clicks) });
    // control: users 1-4 (only user 1 is shown the tag, 2 impressions, 1 click); test: users 5-8, all shown it (8, 2 clicks)
    const overall = { tag: null, impressions: 0, users: new Map([[1, user(0, 10, 2)], [2, user(0, 10, 1)], [3, user(0, 10, 1)], [4, user(0, 10, 0)], [5, user(1, 10, 1)], [6, user(1, 10, 1)], [7, user(1, 10, 1)], [8, user(1, 10, 1)]]) };
    const tag = { tag: 'dance', impressions: 10, users: new Map([[1, user(0, 2, 1)], [5, user(1, 2, 1)], [6, user(1, 2, 1)], [7, user(1, 2, 0)], [8, user(1, 2, 0)]]) };
    const experiment = { key: 1, name: 'e', signal: { key: 1, name: 'click' }, status: 'RUNNING' as const, arms: arms(0.5, 0.5), attributionWindowS: 60, description: '', createdAt: new Date(0), startedAt: null, stoppedAt: null, droppedImpressions: 0 };
    const report = buildReport(experiment, { signals, overall, tags: [tag], clientImpressions: 0, replacedServed: 0 }, 60);
    const of = (arm: number, metric: string) => report.tags[0].arms[arm].metrics.find((m) => m.metric === metric)!;
    assert.deepEqual([of(0, 'ctr').value, of(1, 'ctr').value], [1 / 2, 2 / 8], 'CTR: the tag is less efficient in the test arm');
    assert.deepEqual([of(0, 'clicks_per_user').count, of(0, 'clicks_per_user').views, of(0, 'clicks_per_user').value], [1, 4, 1 / 4]);
    assert.deepEqual([of(1, 'clicks_per_user').count, of(1, 'clicks_per_user').views, of(1, 'clicks_per_user').value], [2, 4, 2 / 4]);
    assert.ok(Math.abs(of(1, 'clicks_per_user').gain! - 1) < 1e-12, 'reach: twice the clicks per user');
    const overallPerUser = report.arms[0].metrics.find((m) => m.metric === 'clicks_per_user')!;
    assert.deepEqual([overallPerUser.count, overallPerUser.views], [4, 4]);
  });
});

describe('exposure log', () => {
  /** One response's row: its posts. */
  const row = (posts: number[], experimentKey = 1): ExposureRow => ({
    experimentKey,
    userId: `u${posts[0]}`,
    arm: 0,
    origin: 'SERVED',
    servedAt: new Date(),
    position: 0,
    postKeys: posts,
    sources: posts.map(() => 'MEMER' as const),
  });
  const sink = () => {
    const written: ExposureRow[][] = [];
    const drops: Map<number, number>[] = [];
    let failures = 0;
    const s: ExposureSink & { written: typeof written; drops: typeof drops; failNext: (n: number) => void } = {
      written,
      drops,
      failNext: (n) => (failures = n),
      async write(rows) {
        if (failures > 0) {
          failures--;
          throw new Error('database down');
        }
        written.push([...rows]);
      },
      async dropped(counts) {
        drops.push(new Map(counts));
      },
    };
    return s;
  };

  test('add only queues; a flush writes batches of rows, one per response', async () => {
    const s = sink();
    const log = new ExposureLog(s, silent, { flushMs: 60_000, batchRows: 3, maxImpressions: 100 });
    for (let i = 0; i < 4; i++) log.add(row([3 * i, 3 * i + 1, 3 * i + 2]));
    assert.equal(s.written.length, 0, 'nothing written on the request path');
    assert.equal(log.pending, 12);
    await log.flush();
    assert.deepEqual(s.written.map((b) => b.length), [3, 1]);
    assert.equal(log.pending, 0);
    assert.equal(log.stats.written, 12);
    await log.close();
  });

  test('a full batch starts a drain without waiting for the timer', async () => {
    const s = sink();
    const log = new ExposureLog(s, silent, { flushMs: 60_000, batchRows: 2, maxImpressions: 100 });
    log.add(row([1, 2]));
    log.add(row([3]));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(s.written.flat().length, 2);
    await log.close();
  });

  test('bounded: past maxImpressions responses are dropped and their impressions counted per experiment', async () => {
    const s = sink();
    const log = new ExposureLog(s, silent, { flushMs: 60_000, batchRows: 1000, maxImpressions: 5 });
    log.add(row([1, 2, 3]));
    log.add(row([4, 5, 6], 2));
    log.add(row([7, 8]));
    assert.equal(log.pending, 5);
    assert.equal(log.stats.dropped, 3);
    await log.flush();
    assert.deepEqual([...s.drops[0]], [[2, 3]]);
    await log.close();
  });

  test('a failed write keeps its rows for the next flush; close drains, and later rows are dropped', async () => {
    const s = sink();
    const log = new ExposureLog(s, silent, { flushMs: 60_000, batchRows: 2, maxImpressions: 100 });
    log.add(row([1, 2]));
    log.add(row([3]));
    s.failNext(1);
    await log.flush();
    assert.equal(log.stats.failures, 1);
    assert.equal(log.pending, 3);
    log.add(row([4]));
    await log.close();
    assert.deepEqual(s.written.flat().flatMap((r) => r.postKeys), [1, 2, 3, 4], 'in order, nothing lost');
    log.add(row([5]));
    assert.equal(log.stats.dropped, 1);
  });

  test('posts and sources pack into bytes and back', () => {
    assert.deepEqual(unpackPosts(packPosts([1, 70_000, 2 ** 31 - 1])), [1, 70_000, 2 ** 31 - 1]);
    assert.deepEqual([...packSources(['MEMER', null, 'RANDOM'])], [0, 255, 4]);
  });
});

describe('baseline arms', () => {
  const tag = Float32Array.from([1, 0]);
  const global = Float32Array.from([0, 1]);
  const random = () => Float32Array.from([0.5, 0.5]);
  const serve = (arm: 'TAG_AVG' | 'GLOBAL_AVG' | 'RANDOM', auto: 'MEMER' | 'MATURE' | 'TAG_AVG' | 'GLOBAL_AVG', tagAvg: Float32Array | null = tag, g: Float32Array | null = global) =>
    armServing(arm, { auto, tagAvg, global: g, random });

  test('rank early posts by the source and its fallbacks; mature posts as AUTO does', () => {
    for (const arm of ['TAG_AVG', 'GLOBAL_AVG', 'RANDOM'] as const) assert.equal(serve(arm, 'MATURE'), 'same');
    assert.deepEqual(serve('TAG_AVG', 'MEMER'), { source: 'TAG_AVG', vector: tag });
    assert.deepEqual(serve('TAG_AVG', 'MEMER', null), { source: 'GLOBAL_AVG', vector: global });
    assert.equal(serve('TAG_AVG', 'MEMER', null, null), 'excluded');
    assert.equal(serve('TAG_AVG', 'TAG_AVG'), 'same');
    assert.equal(serve('TAG_AVG', 'GLOBAL_AVG'), 'same');
    assert.deepEqual(serve('GLOBAL_AVG', 'TAG_AVG'), { source: 'GLOBAL_AVG', vector: global });
    assert.equal(serve('GLOBAL_AVG', 'GLOBAL_AVG'), 'same');
    assert.deepEqual(serve('RANDOM', 'GLOBAL_AVG'), { source: 'RANDOM', vector: random() });
  });

  test('a variant overrides the posts it ranks, and gives them back when they stop differing', () => {
    const v = new ArmVariant('TAG_AVG', { dim: 2 });
    v.setMany([
      { postKey: 3, mediaType: 'VIDEO', serving: { source: 'TAG_AVG', vector: tag } },
      { postKey: 5000, mediaType: 'IMAGE', serving: 'excluded' },
      { postKey: 7, mediaType: 'VIDEO', serving: 'same' },
    ]);
    assert.ok(v.overrides(3) && v.overrides(5000) && !v.overrides(7) && !v.overrides(1 << 20));
    const hits = v.store.search(Float32Array.from([1, 1]), 10, (_, meta) => ArmVariant.ranks(meta));
    assert.deepEqual(hits.map((h) => [h.key, metaSource(h.meta)]), [[3, 'TAG_AVG']], 'excluded rows never rank');
    v.set(3, 'VIDEO', 'same');
    assert.ok(!v.overrides(3));
    assert.deepEqual(v.store.search(Float32Array.from([1, 1]), 10, (_, meta) => ArmVariant.ranks(meta)), []);
  });
});
