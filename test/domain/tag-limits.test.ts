/**
 * Real catalogues carry hundreds of tags per item (a music catalogue: up to 329): registerPost, registerPosts and
 * `memer import` take them under the default limits, and the limits are configuration (MEMER_MAX_TAGS,
 * MEMER_MAX_TAG_LENGTH) whose messages name the setting.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, defaults, loadConfig } from '../../src/config/config.js';
import { DatasetError } from '../../src/datasets/errors.js';
import { importDataset } from '../../src/domain/imports/import.service.js';
import { PROVIDERS, tempDatabase } from '../helpers/databases.js';
import { harness, type Harness } from '../helpers/harness.js';

const TAGS = Array.from({ length: 329 }, (_, i) => `genre ${i} ${'x'.repeat(i % 90)}`.trim());
const REGISTER_MANY = `mutation($x: [RegisterPostInput!]!) { registerPosts(inputs: $x) { id tags } }`;
const REGISTER = `mutation($i: RegisterPostInput!) { registerPost(input: $i) { id tags } }`;

/** A dataset folder of two items, one with `tags`. */
function folder(tags: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'memer-tags-'));
  writeFileSync(join(dir, 'items.csv'), ['item_id,created_at,media_type,tags,text', `song-1,1767225600,video,${tags.join('|')},a song`, 'song-2,1767225700,video,rock,another'].join('\n') + '\n');
  writeFileSync(join(dir, 'interactions.csv'), ['user_id,item_id,signal,timestamp,label', 'u1,song-1,click,1767225800,1', 'u2,song-2,click,1767225900,1'].join('\n') + '\n');
  return dir;
}

test('the tag limits are configuration: defaults that real catalogues pass, environment variables, validation', () => {
  assert.ok(defaults.maxTags >= 329 && defaults.maxTagLength >= 128);
  const c = loadConfig({ MEMER_MAX_TAGS: '2000', MEMER_MAX_TAG_LENGTH: '300' });
  assert.deepEqual([c.maxTags, c.maxTagLength], [2000, 300]);
  assert.throws(() => loadConfig({ MEMER_MAX_TAGS: 'many' }), (e: unknown) => e instanceof ConfigError && /MEMER_MAX_TAGS/.test(e.message));
  assert.throws(() => loadConfig({ MEMER_MAX_TAG_LENGTH: '5000' }), (e: unknown) => e instanceof ConfigError && /MEMER_MAX_TAG_LENGTH.*at most 512/.test(e.message));
});

for (const provider of PROVIDERS) {
  describe(`posts with many tags on ${provider}`, () => {
    let h: Harness;
    const dirs: string[] = [];
    before(async () => (h = await harness(provider)));
    after(async () => {
      await h.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    test('registerPosts and registerPost store a post with 329 tags', async () => {
      const many = await h.ok(REGISTER_MANY, { x: [{ id: 'album-1', mediaType: 'VIDEO', tags: TAGS }, { id: 'album-2', mediaType: 'IMAGE', tags: TAGS.slice(0, 40) }] });
      assert.equal(many.registerPosts[0].tags.length, 329);
      assert.deepEqual(many.registerPosts[0].tags, [...TAGS].sort());
      const one = await h.ok(REGISTER, { i: { id: 'album-3', mediaType: 'VIDEO', tags: TAGS } });
      assert.equal(one.registerPost.tags.length, 329);
      // Read back from the database, and idempotent on retry.
      assert.equal((await h.ok(`{ post(id: "album-1") { tags } }`)).post.tags.length, 329);
      assert.equal((await h.ok(REGISTER, { i: { id: 'album-3', mediaType: 'VIDEO', tags: TAGS } })).registerPost.tags.length, 329);
      // The tag filter and the recommendation fallbacks take such posts.
      assert.equal((await h.ok(`{ posts(filter: {tag: "genre 7 xxxxxxx"}) { edges { node { id } } } }`)).posts.edges.length, 3);
    });

    test('memer import takes an item with 329 tags', async () => {
      const dir = folder(TAGS);
      dirs.push(dir);
      const s = await importDataset(h.services.db, h.services.config, dir);
      assert.equal(s.posts.created, 2);
      assert.equal((await h.ok(`{ post(id: "song-1") { tags } }`)).post.tags.length, 329);
    });

    test('a configured limit is enforced, and its message names the setting', async () => {
      const strict = await harness(provider, { maxTags: 10, maxTagLength: 20 });
      try {
        const e = await strict.fails('BAD_USER_INPUT', REGISTER_MANY, { x: [{ id: 'p', mediaType: 'VIDEO', tags: TAGS.slice(0, 11) }] });
        assert.match(e.message, /at most 10 tags per post \(MEMER_MAX_TAGS\), got 11/);
        assert.equal(e.extensions.path, 'inputs[0].tags');
        const long = await strict.fails('BAD_USER_INPUT', REGISTER, { i: { id: 'p', mediaType: 'VIDEO', tags: ['y'.repeat(21)] } });
        assert.match(long.message, /1-20 characters \(MEMER_MAX_TAG_LENGTH\)/);
        const dir = folder(TAGS);
        dirs.push(dir);
        await assert.rejects(importDataset(strict.services.db, strict.services.config, dir), (err: unknown) => err instanceof DatasetError && /items\.csv:2.*MEMER_MAX_TAGS/.test(err.message));
      } finally {
        await strict.close();
      }
    });
  });
}

test('memer import (the command) takes a 329-tag item, and exits 3 naming MEMER_MAX_TAGS when it is set lower', async () => {
  const bin = new URL('../../bin/memer.js', import.meta.url).pathname;
  const db = await tempDatabase('sqlite');
  const dir = folder(TAGS);
  try {
    const run = (env: Record<string, string>, ...args: string[]) => spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, DATABASE_URL: db.url, ...env }, encoding: 'utf8' });
    assert.equal(run({}, 'db', 'migrate').status, 0);
    const low = run({ MEMER_MAX_TAGS: '100' }, 'import', dir);
    assert.equal(low.status, 3, low.stderr);
    assert.match(low.stderr, /items\.csv:2.*at most 100 tags per post \(MEMER_MAX_TAGS\), got 329/);
    const ok = run({}, 'import', dir);
    assert.equal(ok.status, 0, ok.stderr);
  } finally {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
