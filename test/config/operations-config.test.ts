import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

test('query and rate limits, Redis and proxy settings: defaults, environment, 0 = off', () => {
  const d = loadConfig({});
  assert.deepEqual(
    [d.maxDepth, d.maxAliases, d.maxDirectives, d.maxTokens, d.maxCost, d.ratePerKey, d.burstPerKey, d.ratePerAddress, d.burstPerAddress, d.redisUrl, d.trustProxy],
    [15, 30, 50, 10_000, 10_000, 1000, 2000, 100, 200, null, false],
  );
  const c = loadConfig({ MEMER_MAX_COST: '0', MEMER_MAX_ALIASES: '5', MEMER_RATE_PER_KEY: '0', MEMER_RATE_PER_ADDRESS: '20', MEMER_BURST_PER_ADDRESS: '40', REDIS_URL: 'redis://127.0.0.1:6379', MEMER_TRUST_PROXY: 'true' });
  assert.deepEqual([c.maxCost, c.maxAliases, c.ratePerKey, c.ratePerAddress, c.burstPerAddress, c.redisUrl, c.trustProxy], [0, 5, 0, 20, 40, 'redis://127.0.0.1:6379', true]);
});

test('invalid limits fail with the setting named', () => {
  const cases: [Record<string, string>, string][] = [
    [{ MEMER_MAX_DEPTH: '-1' }, 'MEMER_MAX_DEPTH'],
    [{ MEMER_MAX_COST: 'lots' }, 'MEMER_MAX_COST'],
    [{ MEMER_MAX_TOKENS: '1.5' }, 'MEMER_MAX_TOKENS'],
    [{ MEMER_RATE_PER_ADDRESS: 'fast' }, 'MEMER_RATE_PER_ADDRESS'],
    [{ MEMER_BURST_PER_KEY: '0' }, 'MEMER_BURST_PER_KEY'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ MEMER_TRUST_PROXY: 'sometimes' }, 'MEMER_TRUST_PROXY'],
  ];
  for (const [env, setting] of cases) {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && err.setting === setting && err.message.includes(setting), JSON.stringify(env));
  }
});
