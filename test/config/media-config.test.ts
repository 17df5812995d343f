import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { mediaLimitsOf, textModelPath } from '../../src/domain/media/media.service.js';
import { DEFAULT_MEDIA_LIMITS } from '../../src/media/limits.js';

test('media settings: defaults, the environment, the JSON file\'s media object, and invalid values named', () => {
  const d = loadConfig({});
  assert.deepEqual([d.extractors, d.textModel, d.media], ['builtin', null, { limits: {}, fps: 1, concurrency: 2, ocr: true }]);
  // Unset limits are src/media's defaults; an audio file's limit follows the video's.
  assert.deepEqual(mediaLimitsOf(d), { ...DEFAULT_MEDIA_LIMITS, maxAudioSeconds: DEFAULT_MEDIA_LIMITS.maxVideoSeconds });

  const dir = mkdtempSync(join(tmpdir(), 'memer-media-config-'));
  try {
    const file = join(dir, 'memer.json');
    writeFileSync(file, JSON.stringify({ extractors: 'off', media: { maxBytes: 1000, fps: 0.5, ocr: false } }));
    const c = loadConfig({ MEMER_CONFIG: file, MEMER_MEDIA_MAX_SECONDS: '30', MEMER_MEDIA_CONCURRENCY: '3' });
    assert.equal(c.extractors, 'off');
    assert.deepEqual(c.media, { limits: { maxBytes: 1000, maxVideoSeconds: 30 }, fps: 0.5, concurrency: 3, ocr: false });
    assert.equal(mediaLimitsOf(c).maxAudioSeconds, 30);

    // The text model: the setting, else the model folder's text-model.onnx when it exists.
    assert.equal(textModelPath({ textModel: null, modelDir: dir }), null);
    writeFileSync(join(dir, 'text-model.onnx'), '');
    assert.equal(textModelPath({ textModel: null, modelDir: dir }), join(dir, 'text-model.onnx'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [env, setting] of [
    [{ MEMER_EXTRACTORS: 'paper' }, 'MEMER_EXTRACTORS'],
    [{ MEMER_MEDIA_FPS: '0' }, 'MEMER_MEDIA_FPS'],
    [{ MEMER_MEDIA_FPS: 'fast' }, 'MEMER_MEDIA_FPS'],
    [{ MEMER_MEDIA_MAX_BYTES: '-1' }, 'MEMER_MEDIA_MAX_BYTES'],
    [{ MEMER_MEDIA_MAX_FRAMES: '1' }, 'MEMER_MEDIA_MAX_FRAMES'],
    [{ MEMER_MEDIA_OCR: 'sometimes' }, 'MEMER_MEDIA_OCR'],
  ] as const) {
    assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && e.setting === setting, setting);
  }
});
