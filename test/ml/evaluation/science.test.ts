/**
 * What the numbers must show on the synthetic platform (paper Table 2's claims), with recorded references.
 *
 * Data: `simulate(dir, { ...SCIENCE_PLATFORM, seed })` for the replicate seeds 1, 2 and 3 (fixed here, never chosen
 * by outcome): 4000 posts, 500 users, ~500k interactions over 40 days, reduced feature widths (video visual 64, image
 * visual 72, audio 16, text 16, aux 3), boosted engagement rates so that the positive-only signals (like, share,
 * favorite) have enough rows. Evaluation: the time protocol with the defaults (train = posts of the first 33/40, half
 * of each test post's interactions held out, sampled negatives never the user's own positives), MEMER limited to 40k
 * samples per model, ablation on click for replicate 1.
 *
 * Why replicates: one platform gives 300-4000 scored rows per (signal, media type) and 30-200 evaluated posts, so a
 * group's RelaImpr has a bootstrap 95% interval 40-100 points wide (printed below). RelaImpr per group is asserted
 * on the three replicates pooled: 100 * sum_r (AUC_MEMER,r - 0.5) / sum_r (AUC_MATURE,r - 0.5), the ratio of mean
 * lifts (steadier than a mean of ratios when a replicate's mature lift is small).
 *
 * Recorded references (2-core development machine, Node 20; the FFM on one thread and MEMER are deterministic for
 * the seeds): the `RI` values of the per-group lines this test prints, produced by
 *   npm test -- test/ml/evaluation/science
 * (MEMER_KEEP_SCIENCE=1 keeps the folders; `memer evaluate DIR --ablation click --max-samples 40000` on replicate 1
 * prints the same table). docs/evaluation.md lists the tables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset } from '../../../src/datasets/read.js';
import { simulate, type SimulatorOverrides } from '../../../src/datasets/simulator/index.js';
import { PRESETS } from '../../../src/datasets/simulator/presets.js';
import { evaluateTime, type ResultRow } from '../../../src/ml/evaluation/index.js';
import { PAPER_PIPELINE_OPTIONS } from '../../../src/ml/pipeline/index.js';

/** `memer simulate --preset science` (src/datasets/simulator/presets.ts). */
export const SCIENCE_PLATFORM: SimulatorOverrides = { ...PRESETS.science, seed: 1 };

export const SCIENCE_REPLICATES = [1, 2, 3] as const;

/** Recorded MEMER (all modalities) RelaImpr per replicate and group, from the command in the header; -15 points allowed. */
const RECORDED_RELAIMPR: Record<number, Record<string, number>> = {
  1: { 'click/video': 78.2, 'click/image': 75.6, 'video_play/video': 98.9, 'skip/video': 100.7, 'like/video': 77.3, 'like/image': 53.4, 'share/video': 88.8, 'share/image': 106.3, 'favorite/video': 108.6, 'favorite/image': 100.6 },
  2: { 'click/video': 85.2, 'click/image': 116.1, 'video_play/video': 67.0, 'skip/video': 76.6, 'like/video': 105.2, 'like/image': 104.0, 'share/video': 85.7, 'share/image': 100.4, 'favorite/video': 96.7, 'favorite/image': 99.5 },
  3: { 'click/video': 98.5, 'click/image': 97.1, 'video_play/video': 106.3, 'skip/video': 121.3, 'like/video': 80.4, 'like/image': 101.6, 'share/video': 109.6, 'share/image': 92.8, 'favorite/video': 140.3, 'favorite/image': 107.3 },
};

const fmt = (x: number | null | undefined) => (x === null || x === undefined ? 'null' : Number.isFinite(x) ? x.toFixed(1) : String(x));

test('synthetic platform: MEMER beats Global Avg and Tag Avg on every signal, RelaImpr >= 80 per group, modalities help', { timeout: 600_000 }, async () => {
  const lift = new Map<string, { memer: number; mature: number; n: number }>();
  const lines: string[] = [];
  const timings: string[] = [];
  for (const seed of SCIENCE_REPLICATES) {
    const dir = mkdtempSync(join(tmpdir(), `memer-science-${seed}-`));
    try {
      await simulate(dir, { ...SCIENCE_PLATFORM, seed });
      const ds = await readDataset(dir);
      // The paper's methods only: RIDGE and HYBRID_MF are compared in the README's verdict tables (memer evaluate).
      // splitOn 'span': the split the references were recorded with (the paper's; posts are created at a steady rate here).
      // The paper's configuration (PAPER_PIPELINE_OPTIONS: FFM backbone, MEMER on mature posts, no prior), with which the
      // references were recorded; the defaults are checked by the next test.
      const report = await evaluateTime(ds, { ablation: seed === 1 ? ['click'] : false, strongBaselines: false, splitOn: 'span', pipeline: { ...PAPER_PIPELINE_OPTIONS, memerMaxSamples: 40_000 } });
      const groups = new Map<string, ResultRow[]>();
      for (const r of report.results) {
        const key = `${r.signal}/${r.mediaType}`;
        groups.set(key, [...(groups.get(key) ?? []), r]);
      }
      assert.deepEqual([...new Set(report.results.map((r) => r.signal))].sort(), [...ds.signals].sort(), `replicate ${seed}: every signal is evaluated`);
      for (const [key, rows] of groups) {
        const get = (m: string) => rows.find((r) => r.method === m)!;
        const memer = rows.filter((r) => r.method === 'MEMER').reduce((a, b) => (b.modalities.length > a.modalities.length ? b : a));
        const mature = get('MATURE');
        lines.push(`${seed} ${key}: global ${get('GLOBAL_AVG').auc.toFixed(4)} tag ${get('TAG_AVG').auc.toFixed(4)} mature ${mature.auc.toFixed(4)} memer ${memer.auc.toFixed(4)} RI ${fmt(memer.relaImpr)} CI [${memer.relaImprCi?.map(fmt).join(', ')}] n ${memer.n} M ${report.thresholds[key].M}`);
        assert.ok(memer.auc > get('GLOBAL_AVG').auc, `${seed} ${key}: MEMER ${memer.auc} vs Global Avg ${get('GLOBAL_AVG').auc}`);
        assert.ok(memer.auc > get('TAG_AVG').auc, `${seed} ${key}: MEMER ${memer.auc} vs Tag Avg ${get('TAG_AVG').auc}`);
        const recorded = RECORDED_RELAIMPR[seed][key];
        if (recorded !== undefined) assert.ok((memer.relaImpr ?? -Infinity) >= recorded - 15, `${seed} ${key}: RelaImpr ${memer.relaImpr} below the recorded ${recorded} - 15`);
        const l = lift.get(key) ?? { memer: 0, mature: 0, n: 0 };
        lift.set(key, { memer: l.memer + memer.auc - 0.5, mature: l.mature + mature.auc - 0.5, n: l.n + memer.n });
      }
      if (seed === 1) {
        // Ablation on click: more modalities beat the visual features alone, and audio helps videos.
        for (const media of ['video', 'image']) {
          const memers = groups.get(`click/${media}`)!.filter((r) => r.method === 'MEMER');
          const visual = memers.find((r) => r.modalities.join('+') === 'visual')!;
          const all = memers.reduce((a, b) => (b.modalities.length > a.modalities.length ? b : a));
          assert.ok(all.auc > visual.auc, `click/${media}: all modalities ${all.auc} vs visual ${visual.auc}`);
        }
        const video = groups.get('click/video')!.filter((r) => r.method === 'MEMER');
        const auc = (m: string) => video.find((r) => r.modalities.join('+') === m)!.auc;
        assert.ok(auc('visual+audio') > auc('visual'), `click/video: visual+audio ${auc('visual+audio')} vs visual ${auc('visual')}`);
      }
      timings.push(`${seed} ${JSON.stringify(report.timings)}`);
    } finally {
      if (!process.env.MEMER_KEEP_SCIENCE) rmSync(dir, { recursive: true, force: true });
      else console.log(`kept ${dir}`);
    }
  }
  const pooled = [...lift].map(([key, l]) => ({ key, ri: (100 * l.memer) / l.mature, mature: l.mature, n: l.n }));
  console.log([...lines, ...pooled.map((p) => `pooled ${p.key}: RI ${p.ri.toFixed(1)} rows ${p.n}`), ...timings].join('\n'));
  for (const p of pooled) {
    assert.ok(p.mature > 0, `${p.key}: the mature reference has no lift over 0.5 on the pooled replicates`);
    assert.ok(p.ri >= 80, `${p.key}: pooled RelaImpr ${p.ri.toFixed(1)} < 80`);
  }
});

test('synthetic platform, the defaults (hybrid backbone, linear prior, MEMER on every training post): MEMER beats Global Avg and Tag Avg on every group of replicate 1 with enough rows', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'memer-science-defaults-'));
  try {
    await simulate(dir, { ...SCIENCE_PLATFORM, seed: 1 });
    const ds = await readDataset(dir);
    const report = await evaluateTime(ds, { ablation: false, strongBaselines: false, splitOn: 'span', pipeline: { memerMaxSamples: 40_000 } });
    const keys = [...new Set(report.results.map((r) => `${r.signal}/${r.mediaType}`))];
    assert.equal(keys.length, 10, `every signal and media type is evaluated: ${keys.join(', ')}`);
    const lines: string[] = [];
    let sufficient = 0;
    for (const key of keys) {
      const rows = report.results.filter((r) => `${r.signal}/${r.mediaType}` === key);
      const get = (m: string) => rows.find((r) => r.method === m)!;
      const memer = get('MEMER');
      lines.push(`${key}: GAUC global ${get('GLOBAL_AVG').gauc.toFixed(4)} tag ${get('TAG_AVG').gauc.toFixed(4)} mature ${get('MATURE').gauc.toFixed(4)} memer ${memer.gauc.toFixed(4)}; AUC memer ${memer.auc.toFixed(4)} tag ${get('TAG_AVG').auc.toFixed(4)}; RI ${fmt(memer.relaImpr)} n ${memer.n} M ${report.thresholds[key].M} (${report.thresholds[key].source})`);
      // A group below the evaluation's minimum rows / posts gets no verdict (the like, share and favorite groups at
      // this size: 17-20 evaluated posts, docs/evaluation.md): it is printed, not asserted.
      if (memer.insufficient) continue;
      sufficient++;
      for (const base of ['GLOBAL_AVG', 'TAG_AVG']) {
        assert.ok(memer.auc > get(base).auc, `${key}: MEMER AUC ${memer.auc} vs ${base} ${get(base).auc}`);
        assert.ok(memer.gauc > get(base).gauc, `${key}: MEMER GAUC ${memer.gauc} vs ${base} ${get(base).gauc}`);
      }
    }
    console.log(lines.join('\n'));
    assert.ok(sufficient >= 4, `${sufficient} groups with enough rows (click video and image, video_play, skip)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
