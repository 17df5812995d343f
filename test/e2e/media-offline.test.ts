/**
 * Issue 18's "Done when", its run-time half: `npm start` (memer serve --demo) on a fresh database and model folder,
 * then a JPEG uploaded inline (base64) and an MP4 uploaded as a GraphQL multipart request each get a MEMER embedding
 * and a place in recommendations, while no request leaves the process. The server (and the `memer keys` command)
 * run with test/helpers/network-guard.mjs preloaded (--import, and NODE_OPTIONS for any node process below them):
 * every attempt to reach a non-loopback address throws and is logged; the log must stay free of them. The guard
 * itself is checked first on a fetch of a public address.
 *
 * Where strace works (ptrace allowed), the server also runs under `strace -f` tracing connect / sendto / sendmsg: that
 * sees what the in-process guard cannot, native code (onnxruntime, libvips) and the ffmpeg / ffprobe processes it
 * starts; a connection or datagram to a non-loopback address there fails the test too.
 *
 * The files are the demo's own try/<genre>.jpg and .mp4 (made by sharp and ffmpeg at startup, never registered).
 * The demo build takes a minute or two on a small machine, hence the long timeouts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { awaitServing } from '../server/live-server.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin', 'memer.js');
const guard = new URL('../helpers/network-guard.mjs', import.meta.url).href;
const READY_MS = 240_000;

type Reply = { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
interface GuardEntry { event: 'loaded' | 'blocked'; kind?: string; target?: string; pid: number; threadId: number; argv?: string[]; stack?: string[] }

const REGISTER = 'mutation($i: RegisterPostInput!) { registerPost(input: $i) { id mediaType servingSources { signal source } } }';
const POST = 'query($id: ID!) { post(id: $id) { id mediaType embedding(signal: "click") { source dim modelVersion } servingSources { signal source } } }';
const RECOMMEND = 'query($u: ID!, $m: MediaType) { recommendations(userId: $u, signal: "click", first: 500, stage: EARLY, mediaType: $m) { post { id } source } }';
const USERS = '{ users(first: 100) { edges { node { id embedding(signal: "click") { dim } } } } }';

/** strace's arguments when it can trace here (installed, ptrace allowed), else null. */
function straceArgs(): string[] | null {
  // The network calls, and process creation to say which process made them.
  const trace = ['-e', 'trace=connect,sendto,sendmsg,execve,clone,clone3,fork,vfork', '-s', '128'];
  for (const args of [['-f', '-qq', '--seccomp-bpf', ...trace], ['-f', '-qq', ...trace]]) {
    const probe = spawnSync('strace', [...args, '-o', '/dev/null', 'true'], { stdio: 'ignore', timeout: 10_000 });
    if (probe.status === 0) return args;
  }
  return null;
}

/** The bytes of a string as strace prints it (C escapes, octal for the rest). */
function unescapeC(s: string): Buffer {
  const bytes: number[] = [];
  const named: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, '\\': 92, '"': 34 };
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      bytes.push(s.charCodeAt(i) & 0xff);
      continue;
    }
    const octal = /^[0-7]{1,3}/.exec(s.slice(i + 1));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += octal[0].length;
    } else {
      bytes.push(named[s[i + 1]] ?? s.charCodeAt(i + 1));
      i++;
    }
  }
  return Buffer.from(bytes);
}

/** The question name of a DNS query packet (as far as strace printed it). */
function dnsName(packet: Buffer): string {
  const labels: string[] = [];
  for (let at = 12; at < packet.length && packet[at] > 0 && packet[at] < 64; at += packet[at] + 1) labels.push(packet.subarray(at + 1, at + 1 + packet[at]).toString('latin1'));
  return labels.join('.');
}

interface RemoteCall {
  address: string;
  port: number;
  tid: string;
  /** The program of the process that made it (its last execve). */
  program: string;
  /** For a DNS server (port 53): the name looked up. */
  query?: string;
  line: string;
}

/** The non-loopback destinations (AF_INET, AF_INET6) of connect / sendto / sendmsg in an `strace -f` log. */
function remoteDestinations(log: string): RemoteCall[] {
  const lines = log.split('\n').filter(Boolean).map((l) => {
    const space = l.indexOf(' ');
    return { tid: l.slice(0, space), call: l.slice(space + 1) };
  });
  // Thread -> its process (the leader's tid), from clone's CLONE_THREAD flag; process -> program, from execve.
  const leaderOf = new Map<string, string>();
  const leader = (tid: string) => leaderOf.get(tid) ?? tid;
  const pendingClone = new Map<string, boolean>();
  const program = new Map<string, string>();
  const found: RemoteCall[] = [];
  for (const [k, { tid, call }] of lines.entries()) {
    const clone = /^(clone3?|v?fork)\(/.test(call) ? /CLONE_THREAD/.test(call) : /^<\.\.\. (clone3?|v?fork) resumed>/.test(call) ? pendingClone.get(tid) : undefined;
    if (clone !== undefined) {
      const child = /= (\d+)$/.exec(call)?.[1];
      if (child) leaderOf.set(child, clone ? leader(tid) : child);
      else if (call.endsWith('<unfinished ...>')) pendingClone.set(tid, clone);
      continue;
    }
    const exec = /^execve\("([^"]+)", \[(.*?)\]/.exec(call);
    if (exec) {
      program.set(leader(tid), exec[2].length > 200 ? `${exec[2].slice(0, 200)}...` : exec[2]);
      continue;
    }
    if (!/^(connect|sendto|sendmsg)\(/.test(call)) continue;
    for (const m of call.matchAll(/sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)|sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, "([^"]+)"/g)) {
      const [address, port] = m[2] ? [m[2], Number(m[1])] : [m[4], Number(m[3])];
      if (address.startsWith('127.') || address === '::1' || /^::ffff:127\./.test(address)) continue;
      const hit: RemoteCall = { address, port, tid, program: program.get(leader(tid)) ?? '?', line: `${tid} ${call}` };
      if (port === 53) {
        // The query: this sendto's own payload, or the next send on the same thread and socket after a connect.
        const fd = /^\w+\((\d+),/.exec(call)?.[1];
        const send = call.startsWith('send') ? call : lines.slice(k + 1).find((l) => l.tid === tid && l.call.startsWith(`sendto(${fd}, "`))?.call;
        const payload = send && /^\w+\(\d+, "((?:[^"\\]|\\.)*)"/.exec(send)?.[1];
        if (payload) hit.query = dnsName(unescapeC(payload));
      }
      found.push(hit);
    }
  }
  return found;
}

const readGuardLog = (path: string): GuardEntry[] =>
  existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as GuardEntry) : [];

/** A child environment as `npm start` has it (no test runner's NODE_ENV, no stray config), plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // ORT_ too: onnxruntime's own switches (ORT_DISABLE_TELEMETRY) are the product's to set, not the test runner's.
  for (const k of Object.keys(env)) if (k === 'NODE_ENV' || k === 'NODE_OPTIONS' || k === 'REDIS_URL' || k === 'HOST' || k.startsWith('MEMER_') || k.startsWith('ORT_') || k === 'DATABASE_URL' || k === 'PORT') delete env[k];
  return { ...env, ...extra };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start offline: a JPEG and an MP4 through the API, with no request leaving the process', { timeout: 300_000 }, () => {
  let dir: string;
  let dataDir: string;
  let guardLog: string;
  let env: NodeJS.ProcessEnv;
  let child: ChildProcess;
  let exited: Promise<unknown>;
  let output: () => string = () => '';
  let url: string;
  let key: string;
  let startSeconds: number;
  /** The server's own pid (the child is strace when it traces). */
  let serverPid: number;
  let straceLog: string | null = null;
  let straceKeysLog: string | null = null;

  const gql = async (query: string, variables: Record<string, unknown> = {}): Promise<Reply> => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as Reply;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'memer-offline-e2e-'));
    dataDir = join(dir, 'data');
    guardLog = join(dir, 'network-guard.log');
    writeFileSync(guardLog, '');
    env = cleanEnv({
      DATABASE_URL: `file:${join(dataDir, 'memer.db')}`,
      MEMER_MODEL_DIR: join(dataDir, 'models'),
      PORT: '0',
      LOG_LEVEL: 'warn',
      MEMER_NET_GUARD_LOG: guardLog,
      // Any node process the server starts is guarded too (worker threads inherit the --import below).
      NODE_OPTIONS: `--import=${guard}`,
    });
    const t0 = performance.now();
    // `npm start` is `node bin/memer.js serve --demo`; from the project folder, as npm runs it.
    const command = [process.execPath, `--import=${guard}`, bin, 'serve', '--demo'];
    const strace = straceArgs();
    if (strace) straceLog = join(dir, 'strace.log');
    child = strace
      ? spawn('strace', [...strace, '-o', straceLog!, ...command], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(command[0], command.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const serving = awaitServing(child, READY_MS, 'memer serve --demo');
    exited = serving.exited;
    output = serving.output;
    url = await serving.url;
    startSeconds = (performance.now() - t0) / 1000;
    const main = readGuardLog(guardLog).find((e) => e.event === 'loaded' && e.threadId === 0 && e.argv?.[0] === bin && e.argv?.[1] === 'serve');
    assert.ok(main, `the network guard did not load in the server: ${readFileSync(guardLog, 'utf8')}`);
    serverPid = main.pid;
    const keys = [process.execPath, `--import=${guard}`, bin, 'keys', 'create', '--scope', 'write', '--name', 'offline e2e', '--json'];
    if (strace) straceKeysLog = join(dir, 'strace-keys.log');
    const created = strace
      ? spawnSync('strace', [...strace, '-o', straceKeysLog!, ...keys], { cwd: root, env, encoding: 'utf8' })
      : spawnSync(keys[0], keys.slice(1), { cwd: root, env, encoding: 'utf8' });
    assert.equal(created.status, 0, `memer keys create failed: ${created.stderr}`);
    key = (JSON.parse(created.stdout.trim().split('\n').at(-1)!) as { key: string }).key;
  }, { timeout: READY_MS + 30_000 });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      // The server itself (strace passes a signal on to it, but stops tracing first).
      if (serverPid) process.kill(serverPid, 'SIGTERM');
      else child.kill('SIGTERM');
      const killer = setTimeout(() => {
        if (serverPid) alive(serverPid) && process.kill(serverPid, 'SIGKILL');
        child.kill('SIGKILL');
      }, 15_000);
      await exited;
      clearTimeout(killer);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the guard works: a fetch of a public address fails in a guarded process and is logged', () => {
    const log = join(dir, 'self-check.log');
    const r = spawnSync(
      process.execPath,
      [`--import=${guard}`, '-e', "fetch('http://93.184.216.34/').then(() => { console.log('REACHED'); process.exit(0); }, (e) => { console.log('REFUSED', e.cause?.code); process.exit(3); })"],
      { env: cleanEnv({ MEMER_NET_GUARD_LOG: log }), encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.status, 3, `expected the fetch to be refused: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /REFUSED ENETUNREACH/);
    const blocked = readGuardLog(log).filter((e) => e.event === 'blocked');
    assert.equal(blocked.length, 1, JSON.stringify(blocked));
    assert.equal(blocked[0].kind, 'fetch');
    assert.equal(blocked[0].target, 'http://93.184.216.34/');
    // A lower-level attempt (what http agents and undici use) is refused too.
    const low = spawnSync(process.execPath, [`--import=${guard}`, '-e', "try { require('node:net').connect(80, '93.184.216.34'); } catch (e) { console.log(e.code); }"], { env: cleanEnv({ MEMER_NET_GUARD_LOG: log }), encoding: 'utf8', timeout: 30_000 });
    assert.equal(low.stdout.trim(), 'ENETUNREACH');
    assert.equal(readGuardLog(log).filter((e) => e.event === 'blocked').length, 2);
  });

  test('the demo is up, built from scratch, and the server runs under the guard', (t) => {
    t.diagnostic(`memer serve --demo ready in ${startSeconds.toFixed(1)} s`);
    assert.match(output(), /Creating the demo platform/);
    const loaded = readGuardLog(guardLog).filter((e) => e.event === 'loaded');
    const server = loaded.filter((e) => e.pid === serverPid);
    assert.ok(server.some((e) => e.threadId === 0), `the guard did not load in the server process: ${JSON.stringify(loaded)}`);
    const workers = server.filter((e) => e.threadId > 0).map((e) => e.argv?.[0]?.split('/').slice(-2).join('/'));
    t.diagnostic(`guard loaded in the server's main thread and ${workers.length} worker threads (${workers.join(', ')}), and ${loaded.length - server.length} other processes`);
    t.diagnostic(straceLog ? 'strace -f traces the server, its child processes and the keys command' : 'strace unavailable here: the in-process guard only');
  });

  test('an inline JPEG and a multipart MP4 each get a MEMER embedding and a place in recommendations', async (t) => {
    const tryDir = join(dataDir, 'demo-media', 'try');
    assert.ok(existsSync(tryDir), `the demo wrote no ${tryDir}:\n${output()}`);
    const files = readdirSync(tryDir).sort();
    const jpegName = files.find((f) => f.endsWith('.jpg'));
    const mp4Name = files.find((f) => f.endsWith('.mp4'));
    assert.ok(jpegName && mp4Name, `no .jpg and .mp4 in ${tryDir}: ${files.join(', ')}`);
    const jpeg = readFileSync(join(tryDir, jpegName));
    const mp4 = readFileSync(join(tryDir, mp4Name));
    assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], `${jpegName} is not a JPEG`);
    assert.equal(mp4.subarray(4, 8).toString('latin1'), 'ftyp', `${mp4Name} is not an MP4`);

    // The JPEG inline, as base64.
    const image = await gql(REGISTER, { i: { id: 'offline-jpeg', mediaType: 'IMAGE', media: { base64: jpeg.toString('base64'), filename: jpegName } } });
    assert.equal(image.errors, undefined, JSON.stringify(image.errors));
    assert.equal(image.data.registerPost.servingSources.find((s: { signal: string }) => s.signal === 'click')?.source, 'MEMER', JSON.stringify(image.data));

    // The MP4 as a GraphQL multipart request (operations, map, the file), with the CSRF header.
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: REGISTER, variables: { i: { id: 'offline-mp4', mediaType: 'VIDEO', text: 'an uploaded clip', media: { file: null } } } }));
    form.set('map', JSON.stringify({ 0: ['variables.i.media.file'] }));
    form.set('0', new Blob([mp4], { type: 'video/mp4' }), mp4Name);
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'apollo-require-preflight': 'true' }, body: form });
    const video = (await res.json()) as Reply;
    assert.equal(res.status, 200, JSON.stringify(video));
    assert.equal(video.errors, undefined, JSON.stringify(video.errors));
    assert.equal(video.data.registerPost.servingSources.find((s: { signal: string }) => s.signal === 'click')?.source, 'MEMER', JSON.stringify(video.data));

    for (const [id, mediaType] of [['offline-jpeg', 'IMAGE'], ['offline-mp4', 'VIDEO']] as const) {
      const p = await gql(POST, { id });
      assert.equal(p.errors, undefined, JSON.stringify(p.errors));
      assert.equal(p.data.post.mediaType, mediaType);
      assert.equal(p.data.post.embedding?.source, 'MEMER', `${id}: ${JSON.stringify(p.data.post)}`);
    }

    // Users to look in: the demo's sample user and its try-file users first, then users with a click embedding.
    const named = [...output().matchAll(/Recommendations for user (\S+?),/g)].map((m) => m[1]);
    const enters = /enters the top 10 of recommendations[^:]*: (.*)/.exec(output())?.[1].split(', ').map((s) => s.split(' ').at(-1)!) ?? [];
    const listed = await gql(USERS);
    assert.equal(listed.errors, undefined, JSON.stringify(listed.errors));
    const embedded = (listed.data.users.edges as { node: { id: string; embedding: unknown } }[]).filter((e) => e.node.embedding).map((e) => e.node.id);
    const candidates = [...new Set([...enters, ...named, ...embedded])];
    assert.ok(candidates.length > 0, 'no user with a click embedding to recommend to');

    for (const [id, mediaType] of [['offline-jpeg', 'IMAGE'], ['offline-mp4', 'VIDEO']] as const) {
      let found: { user: string; rank: number; source: string } | null = null;
      let tried = 0;
      for (const user of candidates) {
        tried++;
        const r = await gql(RECOMMEND, { u: user, m: mediaType });
        assert.equal(r.errors, undefined, JSON.stringify(r.errors));
        const list = r.data.recommendations as { post: { id: string }; source: string }[];
        const rank = list.findIndex((x) => x.post.id === id);
        if (rank >= 0) {
          found = { user, rank: rank + 1, source: list[rank].source };
          break;
        }
      }
      assert.ok(found, `${id} is in no user's recommendations(signal: "click", first: 500, stage: EARLY, mediaType: ${mediaType}) among ${tried} users (${candidates.slice(0, 10).join(', ')}...)`);
      assert.equal(found.source, 'MEMER', `${id} recommended from ${found.source}`);
      t.diagnostic(`${id}: rank ${found.rank} of user ${found.user}'s early-stage ${mediaType} recommendations (${tried} users tried)`);
    }
  });

  test('no request left the server or the keys command: the guard logged no non-loopback attempt', () => {
    const entries = readGuardLog(guardLog);
    const blocked = entries.filter((e) => e.event === 'blocked');
    assert.deepEqual(blocked, [], `non-loopback network attempts:\n${blocked.map((e) => `${e.kind} ${e.target} (pid ${e.pid}, thread ${e.threadId})\n  ${(e.stack ?? []).join('\n  ')}`).join('\n')}`);
    // The keys command ran guarded too.
    assert.ok(entries.some((e) => e.event === 'loaded' && e.pid !== serverPid && e.argv?.[1] === 'keys'), JSON.stringify(entries));
  });

  test('below the guard too (strace -f of the server, its ffmpeg / ffprobe processes and the keys command: native code included): no connection or datagram to a non-loopback address', (t) => {
    if (!straceLog) return t.skip('strace cannot trace here');
    // The reading of strace's lines, on lines of its format.
    const sample = [
      '101 connect(19, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("93.184.216.34")}, 16) = -1 EINPROGRESS (Operation now in progress)',
      '102 connect(20, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2606:2800:220:1::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
      '103 sendto(5, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("8.8.8.8")}, 16) = 1',
      '104 connect(21, {sa_family=AF_INET, sin_port=htons(4000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
      '105 connect(22, {sa_family=AF_INET6, sin6_port=htons(6379), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
      '106 connect(23, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)',
      // A thread of a process that made a DNS query: the process and the name are told.
      '200 execve("/usr/bin/node", ["node", "bin/memer.js", "serve"], 0x7ffe /* 41 vars */) = 0',
      '200 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x7f, exit_signal=0} <unfinished ...>',
      '200 <... clone3 resumed> => {parent_tid=[201]}, 88) = 201',
      '201 connect(68, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.53")}, 16) = 0',
      '201 sendto(68, "\\374\\320\\1\\0\\0\\1\\0\\0\\0\\0\\0\\0\\6mobile\\6events\\4data\\tmicrosoft\\3com\\0\\0\\1\\0\\1", 50, MSG_NOSIGNAL, NULL, 0) = 50',
    ].join('\n');
    const parsed = remoteDestinations(sample);
    assert.deepEqual(parsed.map((d) => `${d.address}:${d.port}`), ['93.184.216.34:80', '2606:2800:220:1::1:443', '8.8.8.8:53', '10.0.0.53:53']);
    assert.deepEqual(parsed.map((d) => d.query), [undefined, undefined, '', 'mobile.events.data.microsoft.com']);
    assert.equal(parsed[3].program, '"node", "bin/memer.js", "serve"');
    const log = [straceLog, straceKeysLog!].map((f) => readFileSync(f, 'utf8')).join('\n');
    const processes = new Set(log.split('\n').filter(Boolean).map((l) => l.split(' ')[0])).size;
    t.diagnostic(`${log.split('\n').filter(Boolean).length} traced calls (network, clone, execve) in ${processes} threads or processes`);
    const remote = remoteDestinations(log);
    const groups = new Map<string, RemoteCall[]>();
    for (const r of remote) {
      const what = `${r.address}:${r.port}${r.query ? ` (DNS query for ${r.query})` : ''} from ${r.program}`;
      groups.set(what, [...(groups.get(what) ?? []), r]);
    }
    const summary = [...groups].map(([what, calls]) => `${calls.length}x ${what}\n    e.g. ${calls[0].line}`);
    assert.equal(remote.length, 0, `calls to non-loopback addresses below the JavaScript guard:\n${summary.join('\n')}`);
  });
});
