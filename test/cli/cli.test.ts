import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  test('a bad benchmark parameter exits 2 with a message naming it, before the benchmark starts', () => {
    for (const [arg, message] of [
      ['measured=0', /--set measured=0: expected a positive integer/],
      ['uploads=1,x', /--set uploads=x: expected a positive integer/],
      ['encodings=xml', /"xml" is neither json nor f16/],
    ] as const) {
      const r = memer('bench', 'serve', '--set', arg);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });
});

test('memer serve runs from a folder other than the clone (the loader finds the project tsconfig) and answers a query', async () => {
  const db = await tempDatabase('sqlite');
  const cwd = mkdtempSync(join(tmpdir(), 'memer-elsewhere-'));
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { cwd, env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' } });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /serving GraphQL at (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      child.once('exit', (code) => reject(new Error(`memer serve exited with ${code}: ${out}`)));
    });
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ signals { name } }' }) });
    const body = (await res.json()) as { data?: { signals: { name: string }[] } };
    assert.ok(body.data?.signals.some((s) => s.name === 'click'), JSON.stringify(body));
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    rmSync(cwd, { recursive: true, force: true });
    await db.drop();
  }
});

describe('memer simulate, import and train from the command line', () => {
  let db: TempDatabase;
  let dir: string;
  before(async () => {
    db = await tempDatabase('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'memer-cli-train-'));
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a small platform goes from simulate to an activated run, with JSON summaries', () => {
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      MEMER_MODEL_DIR: join(dir, 'models'),
      MEMER_FEATURES_VIDEO: 'visual=16,audio=8,text=8,aux=3',
      MEMER_FEATURES_IMAGE: 'visual=20,text=8,aux=3',
    };
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
    const sim = run('simulate', '--out', join(dir, 'data'), '--seed', '4', '--users', '150', '--posts', '200', '--interactions', '12000', '--visual-dim', '16', '--image-visual-dim', '20', '--audio-dim', '8', '--text-dim', '8', '--no-latent', '--json');
    assert.equal(sim.status, 0, sim.stderr);
    const imp = run('import', join(dir, 'data'), '--json');
    assert.equal(imp.status, 0, imp.stderr);
    assert.equal(JSON.parse(imp.stdout).posts.created, 200);
    const train = run('train', '--signal', 'click', '--epochs', '3', '--json');
    assert.equal(train.status, 0, train.stderr);
    const summary = JSON.parse(train.stdout) as { run: string; versions: { version: string; kind: string }[]; activated: unknown[] };
    const ffm = summary.versions.find((v) => v.kind === 'FFM')!;
    assert.ok(ffm && summary.activated.length === 0);
    const act = run('train', '--activate-version', ffm.version, '--json');
    assert.equal(act.status, 0, act.stderr);
    assert.equal(JSON.parse(act.stdout).ffm, ffm.version);
    const missing = run('train', '--activate-version', 'nope');
    assert.equal(missing.status, 4);
    assert.equal(run('train', '--epochs', 'many').status, 2);
  });
});
