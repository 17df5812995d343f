import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeFeature } from '../../src/datasets/features.js';
import { DatasetError } from '../../src/datasets/errors.js';
import { importDataset } from '../../src/domain/imports/import.service.js';
import { PROVIDERS } from '../helpers/databases.js';
import { harness, type Harness } from '../helpers/harness.js';

/** A tiny dataset folder: 3 posts (2 videos with text features, 1 image), 3 users, 7 interactions. */
function fixture(interactions: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'memer-import-'));
  writeFileSync(join(dir, 'items.csv'), ['item_id,created_at,media_type,tags,text', 'a,2026-01-01T00:00:00Z,video,cats|funny,"Cat, on a piano"', 'b,1767312000,video,dogs,dog', 'c,2026-01-03T00:00:00Z,image,cats,"a ""quoted"" word"'].join('\n') + '\n');
  writeFileSync(
    join(dir, 'interactions.csv'),
    ['user_id,item_id,signal,timestamp,label', 'u1,a,click,1767225600,1', 'u2,a,click,1767225700,0', 'u1,a,video_play,1767225800,1', 'u3,b,click,1767312100,1', 'u3,c,like,1767398500,1', 'u1,c,click,1767398600,', 'u2,b,rated,1767312200,1', ...interactions].join('\n') + '\n',
  );
  mkdirSync(join(dir, 'features'));
  // text features: 3-d for both media types in the test configuration; row c (image) all zero = missing.
  writeFeature(dir, 'text', { rows: 3, dim: 3, dtype: 'float32', data: Float32Array.from([0.5, -1, 2, 0.25, 0, 1, 0, 0, 0]) });
  return dir;
}

for (const provider of PROVIDERS) {
  describe(`memer import on ${provider}`, () => {
    let h: Harness;
    before(async () => (h = await harness(provider)));
    after(() => h.close());

    test('imports posts, features, users, interactions and statistics; a second import is a no-op', async () => {
      const dir = fixture();
      const s = await importDataset(h.services.db, h.services.config, dir);
      assert.deepEqual([s.alreadyImported, s.posts.created, s.users, s.interactions, s.signalsCreated], [false, 3, 3, 7, ['rated']]);
      const data = await h.ok(`{ a: post(id: "a") { text tags mediaType createdAt maturity(signal: "click") { views positives firstSeen lastSeen } }
        c: post(id: "c") { mediaType maturity(signal: "click") { views positives } } }`);
      assert.deepEqual(data.a, { text: 'Cat, on a piano', tags: ['cats', 'funny'], mediaType: 'VIDEO', createdAt: '2026-01-01T00:00:00.000Z', maturity: { views: 2, positives: 1, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:01:40.000Z' } });
      assert.deepEqual(data.c, { mediaType: 'IMAGE', maturity: { views: 1, positives: 1 } });
      const feats = await h.services.db.prisma.postFeature.findMany({ select: { post: { select: { externalId: true } }, modality: true } });
      assert.deepEqual(feats.map((f) => f.post.externalId).sort(), ['a', 'b'], 'the all-zero row of c is a missing modality');
      const stamps = await h.services.db.prisma.interaction.findMany({ where: { user: { externalId: 'u3' } }, orderBy: { timestamp: 'asc' }, select: { timestamp: true } });
      assert.deepEqual(stamps.map((x) => x.timestamp.toISOString()), ['2026-01-02T00:01:40.000Z', '2026-01-03T00:01:40.000Z']);
      const again = await importDataset(h.services.db, h.services.config, dir);
      assert.equal(again.alreadyImported, true);
      assert.equal(await h.services.db.prisma.interaction.count(), 7);
    });

    test('a malformed row is reported with file and line and nothing is written', async () => {
      const before = await h.services.db.prisma.interaction.count();
      const dir = fixture(['u9,a,click,not-a-time,1']);
      await assert.rejects(importDataset(h.services.db, h.services.config, dir), (err: unknown) => err instanceof DatasetError && err.line === 9 && err.file.endsWith('interactions.csv'));
      const unknownPost = fixture(['u9,zzz,click,1767225600,1']);
      await assert.rejects(importDataset(h.services.db, h.services.config, unknownPost), (err: unknown) => err instanceof DatasetError && err.line === 9);
      assert.equal(await h.services.db.prisma.interaction.count(), before);
    });

    test('a post already registered with another payload is a conflict and the import is rolled back', async () => {
      const before = await h.services.db.prisma.interaction.count();
      const dir = fixture(['u7,a,click,1767225600,1']);
      writeFileSync(join(dir, 'items.csv'), 'item_id,created_at,media_type,tags,text\na,2026-01-01T00:00:00Z,video,cats,changed\nb,1767312000,video,dogs,dog\nc,2026-01-03T00:00:00Z,image,cats,x\n');
      await assert.rejects(importDataset(h.services.db, h.services.config, dir), (err: { code?: string }) => err.code === 'CONFLICT');
      assert.equal(await h.services.db.prisma.interaction.count(), before);
      assert.equal(await h.services.db.prisma.user.count({ where: { externalId: 'u7' } }), 0);
    });
  });
}
