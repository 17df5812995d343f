import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { tempDatabase, type TempDatabase } from '../helpers/databases.js';

const bin = new URL('../../bin/memer.js', import.meta.url).pathname;

describe('memer CLI', () => {
  let db: TempDatabase;
  const memer = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, DATABASE_URL: db.url }, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  before(async () => (db = await tempDatabase('sqlite')));
  after(() => db.drop());

  test('db migrate, keys create --json, list, revoke', () => {
    const m = memer('db', 'migrate', '--json');
    assert.equal(m.code, 0, m.stderr);
    assert.ok(JSON.parse(m.stdout).applied.includes('0001_init'));
    const c = memer('keys', 'create', '--scope', 'write', '--name', 'ci', '--json');
    assert.equal(c.code, 0, c.stderr);
    const created = JSON.parse(c.stdout) as { key: string; prefix: string; scopes: string[] };
    assert.match(created.key, /^mk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(created.scopes, ['write']);
    const list = JSON.parse(memer('keys', 'list', '--json').stdout) as { prefix: string; revokedAt: string | null }[];
    assert.equal(list.find((k) => k.prefix === created.prefix)?.revokedAt, null);
    assert.equal(memer('keys', 'revoke', created.prefix).code, 0);
    const after = JSON.parse(memer('keys', 'list', '--json').stdout) as { prefix: string; revokedAt: string | null }[];
    assert.ok(after.find((k) => k.prefix === created.prefix)?.revokedAt);
  });

  test('bad usage exits 2 with a message; unknown key prefix exits 4; bad config names the setting', () => {
    const bad = memer('keys', 'create', '--scope', 'root');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown scope "root"/);
    assert.equal(memer('keys', 'revoke', 'ffffffffffff').code, 4);
    assert.equal(memer('frobnicate').code, 2);
    const r = spawnSync(process.execPath, [bin, 'db', 'migrate'], { env: { ...process.env, DATABASE_URL: db.url, PORT: 'x' }, encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /PORT/);
  });
});
