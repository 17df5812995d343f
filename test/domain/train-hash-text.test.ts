/**
 * `memer train --hash-text D` on a database without content features: MEMER trains on the hashed feature of each
 * post's text and tags (the function `memer evaluate --hash-text` uses), and serving computes the same feature from
 * the same stored text and tags, on activation, on upload and as views accrue: every served MEMER vector is the one
 * the model gives for the training-side feature. Without --hash-text, training says MEMER has nothing to learn from.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { simulate } from '../../src/datasets/simulator/index.js';
import { importDataset } from '../../src/domain/imports/import.service.js';
import { activateVersion } from '../../src/domain/training/activation.js';
import { exportDataset } from '../../src/domain/training/export.js';
import { trainOnDatabase, type TrainSummary } from '../../src/domain/training/train.service.js';
import { bytesToVector } from '../../src/lib/vectors.js';
import { withHashedText } from '../../src/ml/evaluation/hashed-features.js';
import { normalisedFreq } from '../../src/ml/pipeline/memer-model.js';
import { PROVIDERS } from '../helpers/databases.js';
import { harness, type Harness } from '../helpers/harness.js';

const D = 16;
const TRAIN = { signals: ['click'], fixedThreshold: 6, ffm: { epochs: 3 }, memer: { training: { maxEpochs: 3 } }, seed: 3 };
const REGISTER = `mutation($i: RegisterPostInput!) { registerPost(input: $i) { id servingSources { signal source } } }`;

for (const provider of PROVIDERS) {
  describe(`memer train --hash-text on ${provider}`, () => {
    let h: Harness;
    let dir: string;
    let hashed: TrainSummary;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'memer-hash-'));
      h = await harness(provider, { modelDir: join(dir, 'models') });
      await simulate(join(dir, 'data'), { seed: 5, users: 200, posts: 240, interactions: 14_000, dims: { videoVisual: 8, imageVisual: 8, audio: 4, text: 4 }, writeLatent: false });
      rmSync(join(dir, 'data', 'features'), { recursive: true }); // a catalogue without content features (MovieLens-like)
      await importDataset(h.services.db, h.services.config, join(dir, 'data'));
    });
    after(async () => {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('without --hash-text, training says MEMER has nothing to learn from', async () => {
      const plain = await trainOnDatabase(h.services, { ...TRAIN, version: 'run-plain' });
      assert.equal(plain.versions.filter((v) => v.kind === 'MEMER').length, 0);
      assert.ok(plain.warnings.some((w) => /no content features.*MEMER has nothing to learn from.*--hash-text 64/.test(w)), JSON.stringify(plain.warnings));
      assert.equal(plain.hashedText, null);
    });

    test('with --hash-text D, MEMER trains on the hashed text and tags and records it', async () => {
      hashed = await trainOnDatabase(h.services, { ...TRAIN, version: 'run-hashed', hashText: D });
      const memer = hashed.versions.filter((v) => v.kind === 'MEMER');
      assert.ok(memer.length > 0, JSON.stringify(hashed.skipped));
      for (const v of memer) {
        const m = v.metrics as { hashedText?: number; featureWidths: Record<string, number>; modalities: { modality: string; dim: number }[] };
        assert.equal(m.hashedText, D);
        assert.deepEqual(m.modalities.map((s) => s.modality), ['text']);
        assert.ok(m.modalities[0].dim <= D);
        assert.deepEqual(m.featureWidths, {}, 'the hashed input is derived by the service, not uploaded');
      }
      assert.ok(!hashed.warnings.some((w) => /nothing to learn from/.test(w)));
      assert.equal(hashed.hashedText, D);
    });

    test('activation, uploads and accruing views serve what the model gives for the training-side feature', async () => {
      await activateVersion(h.services, hashed.versions.find((v) => v.kind === 'FFM')!.version);
      const model = h.services.registry.current().memer.get('click:VIDEO')!;
      assert.equal(model.hashedText, D);
      const { prisma } = h.services.db;
      const click = (await prisma.signal.findUniqueOrThrow({ where: { name: 'click' } })).id;
      /** What training computes for a post: the export with the hashed text feature, cut to the model's input. */
      const expected = async (id: string, views: number) => {
        const ds = withHashedText((await exportDataset(prisma)).dataset, D);
        const i = ds.items.ids.indexOf(id);
        const width = model.embedder.info.modalities.find((s) => s.modality === 'text')!.dim;
        const row = (ds.features.text!.data as Float32Array).slice(i * D, i * D + width);
        const tags = Array.from(ds.items.tagIds.subarray(ds.items.tagOffsets[i], ds.items.tagOffsets[i + 1]), (t) => ds.items.tagNames[t]);
        return model.embedder.embed({ features: { text: row }, freq: normalisedFreq(views, model.freqScale), tags });
      };
      const served = async (id: string) => {
        const e = await prisma.postEmbedding.findFirstOrThrow({ where: { post: { externalId: id }, signalId: click, source: 'MEMER' } });
        return { vector: bytesToVector(e.vector), views: e.views };
      };
      const close = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, j) => Math.abs(x - b[j]) < 1e-5);

      // Activation: every stored post's MEMER vector, from its stored text and tags.
      const stored = await prisma.post.findFirstOrThrow({ where: { mediaType: 'VIDEO', tags: { some: {} } }, select: { externalId: true } });
      const s = await served(stored.externalId);
      assert.ok(close(s.vector, await expected(stored.externalId, s.views)), 'activation');

      // An upload with text and tags only: MEMER serves it.
      const tags = (await prisma.postTag.findMany({ where: { post: { mediaType: 'VIDEO' } }, take: 3, distinct: ['tag'] })).map((t) => t.tag);
      const up = await h.ok(REGISTER, { i: { id: 'fresh', mediaType: 'VIDEO', tags, text: 'A brand new upload' } });
      assert.equal(up.registerPost.servingSources.find((x: { signal: string }) => x.signal === 'click').source, 'MEMER');
      assert.ok(close((await served('fresh')).vector, await expected('fresh', 0)), 'upload');

      // Views accrue: the recomputed vector reads the same hashed feature.
      await h.ok(`mutation { recordInteractions(inputs: [{userId: "someone", postId: "fresh", signal: "click"}]) { recorded } }`);
      const after = await served('fresh');
      assert.equal(after.views, 1);
      assert.ok(close(after.vector, await expected('fresh', 1)), 'refresh');

      // Nothing to hash: no MEMER vector, a baseline serves the post.
      const bare = await h.ok(REGISTER, { i: { id: 'bare', mediaType: 'VIDEO' } });
      assert.ok(['TAG_AVG', 'GLOBAL_AVG'].includes(bare.registerPost.servingSources.find((x: { signal: string }) => x.signal === 'click').source));
    });

    test('activateModel refuses a MEMER version whose validation GAUC is below its prior\'s, unless forced', async () => {
      const ffm = hashed.versions.find((v) => v.kind === 'FFM')!;
      assert.equal((ffm.metrics as { backbone?: string }).backbone, 'hybrid', 'the backbone version says which backbone it is');
      const memer = hashed.versions.find((v) => v.kind === 'MEMER')!;
      const m = memer.metrics as { validationGauc: number; priorValidationGauc: number };
      assert.ok(m.validationGauc >= m.priorValidationGauc, `GAUC selection keeps a model at or above its prior (${m.validationGauc} vs ${m.priorValidationGauc})`);
      const { prisma } = h.services.db;
      const row = await prisma.modelVersion.findUniqueOrThrow({ where: { version: memer.version } });
      await prisma.modelVersion.update({ where: { version: memer.version }, data: { metrics: JSON.stringify({ ...JSON.parse(row.metrics), validationGauc: 0.5, priorValidationGauc: 0.6 }) } });
      try {
        const activeBefore = (await prisma.modelVersion.findMany({ where: { active: true }, select: { version: true } })).map((r) => r.version).sort();
        await assert.rejects(activateVersion(h.services, ffm.version), (e: { code?: string; details?: { reason?: string } }) => e.code === 'CONFLICT' && e.details?.reason === 'BELOW_PRIOR');
        const activeAfter = (await prisma.modelVersion.findMany({ where: { active: true }, select: { version: true } })).map((r) => r.version).sort();
        assert.deepEqual(activeAfter, activeBefore, 'a refused activation changes nothing');
        const forced = await activateVersion(h.services, ffm.version, { force: true });
        assert.equal(forced.warnings.length, 1);
        assert.match(forced.warnings[0], /below its prior/);
      } finally {
        await prisma.modelVersion.update({ where: { version: memer.version }, data: { metrics: row.metrics } });
      }
    });
  });
}

test('memer train --hash-text takes an integer >= 2 and is documented in --help', () => {
  const bin = new URL('../../bin/memer.js', import.meta.url).pathname;
  const bad = spawnSync(process.execPath, [bin, 'train', '--hash-text', '1'], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: 'file:/nonexistent/memer.db' } });
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--hash-text expects an integer >= 2/);
  const help = spawnSync(process.execPath, [bin, 'train', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout + help.stderr, /--hash-text D/);
});
