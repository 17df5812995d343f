import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, defaults, loadConfig } from '../../src/config/config.js';

test('defaults follow the paper and the embedded SQLite database', () => {
  const c = loadConfig({});
  assert.equal(c.databaseUrl, 'file:./data/memer.db');
  assert.equal(c.port, 4000);
  assert.deepEqual(c.features.video, { visual: 2048, audio: 128, text: 100, aux: 3 });
  assert.deepEqual(c.features.image, { visual: 2208, text: 100, aux: 3 });
  assert.equal(c.executionProvider, defaults.executionProvider);
});

test('environment overrides the file, which overrides defaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'memer-config-'));
  const file = join(dir, 'memer.json');
  writeFileSync(file, JSON.stringify({ port: 5000, logLevel: 'debug', features: { image: { visual: 512, text: 100 } } }));
  const c = loadConfig({ MEMER_CONFIG: file, PORT: '6000', MEMER_FEATURES_VIDEO: 'visual=1024, audio=64', DATABASE_URL: 'postgresql://db/memer' });
  assert.equal(c.port, 6000);
  assert.equal(c.logLevel, 'debug');
  assert.deepEqual(c.features.image, { visual: 512, text: 100 });
  assert.deepEqual(c.features.video, { visual: 1024, audio: 64 });
  assert.equal(c.databaseUrl, 'postgresql://db/memer');
});

test('invalid settings fail with the setting named', () => {
  const cases: [Record<string, string>, string][] = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ MEMER_EXECUTION_PROVIDER: 'tpu' }, 'MEMER_EXECUTION_PROVIDER'],
    [{ MEMER_FEATURES_VIDEO: 'smell=3' }, 'MEMER_FEATURES_VIDEO'],
    [{ MEMER_FEATURES_IMAGE: 'visual=-1' }, 'MEMER_FEATURES_IMAGE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ MEMER_READ_ACCESS: 'maybe' }, 'MEMER_READ_ACCESS'],
    [{ MEMER_DEV: 'perhaps' }, 'MEMER_DEV'],
  ];
  for (const [env, setting] of cases) {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && err.setting === setting && err.message.includes(setting), JSON.stringify(env));
  }
  const dir = mkdtempSync(join(tmpdir(), 'memer-config-'));
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ prot: 1 }));
  assert.throws(() => loadConfig({ MEMER_CONFIG: join(dir, 'bad.json') }), /prot/);
});
