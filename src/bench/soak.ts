/**
 * `memer bench soak`: a load and soak run against one `memer serve` child process over loopback HTTP. The demo
 * platform (prepareDemo: 2,000 posts, 1,500 users, trained and activated models; 20-90 s) is built in this process on
 * a temporary SQLite database, then a fresh `memer serve` serves that database, so that its memory holds only what
 * serving needs. A mixed workload at a fixed request rate (open loop: each request is sent at its time, whether or
 * not earlier ones have answered, at most `maxInFlight` in flight):
 *   upload           registerPosts of `uploadBatch` brand-new posts (the demo's simulated features, new ids)
 *   interactions     recordInteractions of `interactionBatch` clicks by demo users on demo and uploaded posts
 *   recommendations  recommendations(first: 20) { post { id } score source } for a demo user
 *   post             post(id) { id mediaType embedding(signal: "click") { source dim } }
 * Every `interval` seconds: the server's RSS, heap used and event-loop lag (p99 and max over the interval, from its
 * /metrics, prom-client's default metrics; RSS also from /proc), p50 and p99 latency per operation, requests and
 * errors. Reported: every sample, the memory slope (least squares over the samples, MB per minute), p99 of the last
 * interval against the first (stability), the achieved rate, and, in the middle of the run, one activateModel of the
 * demo's trained FFM version for the click signal (re-activation: the same swap a new version does, its MEMER posts
 * recomputed) with the requests that failed while it ran (must be 0). Bounded in time (`minutes`) and count
 * (rate x duration requests at most); loopback only (the server listens on 127.0.0.1).
 * Parameters (--set): minutes=5 (the soak figure: minutes=30)  interval=30 (seconds)  rate=20 (requests/s)  warmup=10 (seconds, not measured)
 *   mix=upload:1,interactions:2,recommendations:4,post:3 (weights)  uploadBatch=4  interactionBatch=20
 *   maxInFlight=256  timeoutMs=30000 (a request slower than this counts as an error)  activate=1 (0: no activation)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config.js';
import { readDataset } from '../datasets/read.js';
import { DEMO, prepareDemo } from '../domain/demo/demo.js';
import { itemAsPostInput, presenceOf } from '../domain/imports/import.service.js';
import { createLogger } from '../lib/logger.js';
import { startApp } from '../server/app.js';
import { BenchArgError, percentile, positiveArg, startServeChild, stopServeChild, withBaseline, type Bench, type BenchResult, type ServeChild } from './harness.js';
import { HttpClient } from './http-client.js';

export const OPERATIONS = ['upload', 'interactions', 'recommendations', 'post'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** Least-squares slope of y over x (units of y per unit of x); NaN with fewer than two distinct x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) (mx += xs[i]), (my += ys[i]);
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

/** The value of an unlabelled sample `name` in a Prometheus text exposition, or null when absent. */
export function metricValue(text: string, name: string): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ') continue;
    const v = Number(rest.trim().split(' ')[0]);
    if (Number.isFinite(v)) return v;
  }
  return null;
}

/** `upload:1,post:3`: weights per operation (those not named weigh 0); at least one positive. */
export function parseMix(spec: string): Record<Operation, number> {
  const mix = { upload: 0, interactions: 0, recommendations: 0, post: 0 } as Record<Operation, number>;
  for (const part of spec.split(',').filter(Boolean)) {
    const [op, w] = part.split(':');
    if (!(OPERATIONS as readonly string[]).includes(op)) throw new BenchArgError(`--set mix: "${op}" is not one of ${OPERATIONS.join(', ')}`);
    const weight = Number(w);
    if (!Number.isFinite(weight) || weight < 0) throw new BenchArgError(`--set mix: weight of ${op} must be a number >= 0, got "${w}"`);
    mix[op as Operation] = weight;
  }
  if (OPERATIONS.every((op) => mix[op] === 0)) throw new BenchArgError('--set mix: at least one operation needs a positive weight');
  return mix;
}

/**
 * The operation of request i: a fixed interleaving (smooth weighted round robin) so that every window of the run has
 * the same mix, with no randomness to make two runs differ.
 */
export function schedule(mix: Record<Operation, number>, count: number): Operation[] {
  const total = OPERATIONS.reduce((s, op) => s + mix[op], 0);
  const current = { upload: 0, interactions: 0, recommendations: 0, post: 0 } as Record<Operation, number>;
  const out: Operation[] = [];
  for (let i = 0; i < count; i++) {
    let best: Operation = OPERATIONS[0];
    for (const op of OPERATIONS) {
      current[op] += mix[op];
      if (current[op] > current[best]) best = op;
    }
    current[best] -= total;
    out.push(best);
  }
  return out;
}

const UPLOAD = 'mutation SoakUpload($i: [RegisterPostInput!]!) { registerPosts(inputs: $i) { id servingSources { signal source } } }';
const INTERACT = 'mutation SoakInteractions($i: [InteractionInput!]!) { recordInteractions(inputs: $i) { __typename } }';
const RECOMMEND = 'query SoakRecommendations($u: ID!) { recommendations(userId: $u, signal: "click", first: 20) { post { id } score source } }';
const READ = 'query SoakPost($id: ID!) { post(id: $id) { id mediaType embedding(signal: "click") { source dim } } }';
const ACTIVATE = 'mutation SoakActivate($v: String!) { activateModel(version: $v) { signal ffm memer maturePosts users memerPosts } }';


/** Resident memory of a process from /proc (Linux), bytes; null elsewhere. */
function procRss(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

interface Sample {
  /** Seconds since the measured run began (the interval's end). */
  t: number;
  rssMB: number;
  heapMB: number;
  lagP99ms: number;
  lagMaxMs: number;
  requests: number;
  errors: number;
  latency: Record<Operation, number[]>;
}

const emptyLatency = (): Record<Operation, number[]> => ({ upload: [], interactions: [], recommendations: [], post: [] });
const MB = 2 ** 20;

export const bench: Bench = {
  summary: 'load and soak: a mixed workload at a fixed rate against one memer serve (memory slope, p99 stability, an activation under load)',
  async run(args, log) {
    const minutes = positiveArg(args, 'minutes', 5);
    const interval = positiveArg(args, 'interval', 30);
    const rate = positiveArg(args, 'rate', 20);
    const warmup = args.warmup === '0' ? 0 : positiveArg(args, 'warmup', 10);
    const mix = parseMix(args.mix ?? 'upload:1,interactions:2,recommendations:4,post:3');
    const uploadBatch = positiveArg(args, 'uploadBatch', 4, true);
    const interactionBatch = positiveArg(args, 'interactionBatch', 20, true);
    const maxInFlight = positiveArg(args, 'maxInFlight', 256, true);
    const timeoutMs = positiveArg(args, 'timeoutMs', 30_000);
    const activate = args.activate !== '0';
    const seconds = minutes * 60;
    if (interval > seconds) throw new BenchArgError(`--set interval=${interval} is longer than the run (${seconds} s)`);

    const dir = mkdtempSync(join(tmpdir(), 'memer-bench-soak-'));
    const clients: HttpClient[] = [];
    let server: ServeChild | null = null;
    try {
      // 1. The demo platform, built in this process, and the keys; then a fresh server on the same files.
      const quiet = createLogger('warn');
      const databaseUrl = `file:${join(dir, 'memer.db')}`;
      const modelDir = join(dir, 'models');
      const config = loadConfig(process.env, { databaseUrl, modelDir, host: '127.0.0.1', port: 0, ratePerKey: 0, ratePerAddress: 0 });
      const app = await startApp(config, quiet, { hold: { demo: 'building the demo platform' } });
      let key: string;
      let ffmVersion: string | null;
      let templates: string[];
      let userIds: string[];
      let postIds: string[];
      try {
        const t0 = performance.now();
        await prepareDemo(app.services, dir, quiet, log);
        log(`demo platform ready in ${Math.round((performance.now() - t0) / 1000)} s`);
        key = (await app.services.keys.create(['admin'], 'soak')).key;
        const ffm = await app.services.db.prisma.modelVersion.findFirst({ where: { kind: 'FFM', active: true, signal: { name: DEMO.signal } }, orderBy: { createdAt: 'desc' }, select: { version: true } });
        ffmVersion = ffm?.version ?? null;
        // Upload templates: the simulated posts' features at the widths the server checks, pre-serialised.
        const ds = await readDataset(join(dir, 'demo-platform'));
        const present = presenceOf(ds);
        const widths = app.services.widths.current();
        templates = Array.from({ length: Math.min(64, ds.items.ids.length) }, (_, i) => {
          const p = itemAsPostInput(ds, i, widths, present);
          return JSON.stringify({ mediaType: p.mediaType, tags: p.tags, text: p.text, features: p.features });
        });
        userIds = ds.userIds;
        postIds = ds.items.ids.slice();
      } finally {
        await app.stop();
      }
      if (activate && !ffmVersion) throw new Error(`the demo has no active FFM version for ${DEMO.signal}`);

      server = await startServeChild({ DATABASE_URL: databaseUrl, MEMER_MODEL_DIR: modelDir, MEMER_EXECUTION_PROVIDER: 'cpu' }, ['--host', '127.0.0.1']);
      const url = new URL(server.url);
      const pid = server.child.pid!;
      const client = new HttpClient('127.0.0.1', Number(url.port), url.pathname, { authorization: `Bearer ${key}` });
      const admin = new HttpClient('127.0.0.1', Number(url.port), url.pathname, { authorization: `Bearer ${key}` });
      clients.push(client, admin);
      const metricsUrl = `http://127.0.0.1:${url.port}/metrics`;
      const scrape = async () => {
        const text = await (await fetch(metricsUrl)).text();
        return {
          rss: metricValue(text, 'process_resident_memory_bytes') ?? procRss(pid) ?? NaN,
          heap: metricValue(text, 'nodejs_heap_size_used_bytes') ?? NaN,
          lagP99: metricValue(text, 'nodejs_eventloop_lag_p99_seconds') ?? NaN,
          lagMax: metricValue(text, 'nodejs_eventloop_lag_max_seconds') ?? NaN,
        };
      };

      // 2. The requests.
      let uploaded = 0;
      let nextUser = 0;
      let nextPost = 0;
      const pickUser = () => userIds[(nextUser = (nextUser + 7919) % userIds.length)];
      const pickPost = () => postIds[(nextPost = (nextPost + 104_729) % postIds.length)];
      const body = (op: Operation): string => {
        switch (op) {
          case 'upload': {
            const inputs = Array.from({ length: uploadBatch }, () => {
              const n = uploaded++;
              return `{"id":"soak-${n}",${templates[n % templates.length].slice(1)}`;
            });
            return `{"query":${JSON.stringify(UPLOAD)},"variables":{"i":[${inputs.join(',')}]}}`;
          }
          case 'interactions':
            return JSON.stringify({ query: INTERACT, variables: { i: Array.from({ length: interactionBatch }, () => ({ userId: pickUser(), postId: pickPost(), signal: DEMO.signal, label: 1 })) } });
          case 'recommendations':
            return JSON.stringify({ query: RECOMMEND, variables: { u: pickUser() } });
          case 'post':
            return JSON.stringify({ query: READ, variables: { id: pickPost() } });
        }
      };
      const firstErrors: string[] = [];
      /** Sends one request; resolves with whether it succeeded (never rejects). */
      const send = async (c: HttpClient, payload: string, check: (data: any) => boolean): Promise<boolean> => {
        let timer: NodeJS.Timeout | undefined;
        try {
          const reply = await Promise.race([c.post(payload), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs)))]);
          const parsed = JSON.parse(reply) as { data?: any; errors?: unknown[] };
          if (parsed.errors || !parsed.data || !check(parsed.data)) {
            if (firstErrors.length < 5) firstErrors.push(reply.slice(0, 300));
            return false;
          }
          return true;
        } catch (err) {
          if (firstErrors.length < 5) firstErrors.push((err as Error).message.slice(0, 300));
          return false;
        } finally {
          clearTimeout(timer);
        }
      };
      const checks: Record<Operation, (data: any) => boolean> = {
        upload: (d) => Array.isArray(d.registerPosts) && d.registerPosts.length === uploadBatch,
        interactions: (d) => !!d.recordInteractions,
        recommendations: (d) => Array.isArray(d.recommendations) && d.recommendations.length > 0,
        post: (d) => !!d.post,
      };

      // 3. The run: warm-up (unmeasured), then `seconds` at `rate`, sampled every `interval`.
      const total = Math.floor(rate * seconds);
      const ops = schedule(mix, Math.max(total, 1));
      if (warmup > 0) {
        log(`warming up for ${warmup} s at ${rate} requests/s...`);
        const warmOps = schedule(mix, Math.ceil(rate * warmup));
        const start = performance.now();
        const pending: Promise<boolean>[] = [];
        for (let i = 0; i < warmOps.length; i++) {
          const due = start + (i * 1000) / rate;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          pending.push(send(client, body(warmOps[i]), checks[warmOps[i]]));
        }
        await Promise.all(pending);
        firstErrors.length = 0;
      }
      await scrape(); // resets the server's event-loop histogram: the first sample covers the first interval only
      log(`soak: ${minutes} min at ${rate} requests/s (${total} requests at most), sampled every ${interval} s${activate ? `, activateModel ${ffmVersion} at ${Math.round(seconds / 2)} s` : ''}...`);

      const samples: Sample[] = [];
      let bucket = { requests: 0, errors: 0, latency: emptyLatency() };
      let inFlight = 0;
      let skipped = 0;
      let sent = 0;
      let errors = 0;
      const windows: { start: number; end: number; ok: boolean }[] = [];
      let activation: { start: number; end: number; ok: boolean; detail: string } | null = null;
      const t0 = performance.now();
      const end = t0 + seconds * 1000;
      const pending = new Set<Promise<void>>();
      const fire = (op: Operation) => {
        if (inFlight >= maxInFlight) {
          skipped++;
          return;
        }
        inFlight++;
        sent++;
        const start = performance.now();
        const p = send(client, body(op), checks[op]).then((ok) => {
          const done = performance.now();
          inFlight--;
          bucket.requests++;
          bucket.latency[op].push(done - start);
          if (!ok) (bucket.errors++, errors++);
          // Only what overlaps the activation window is kept (for its failure count).
          if (activate && (activation === null || start <= activation.end)) windows.push({ start, end: done, ok });
          pending.delete(p);
        });
        pending.add(p);
      };
      const sampler = (async () => {
        for (let k = 1; k * interval <= seconds + 1e-9; k++) {
          const at = t0 + k * interval * 1000;
          await new Promise((r) => setTimeout(r, Math.max(0, at - performance.now())));
          const taken = bucket;
          bucket = { requests: 0, errors: 0, latency: emptyLatency() };
          const m = await scrape();
          const s: Sample = { t: (performance.now() - t0) / 1000, rssMB: m.rss / MB, heapMB: m.heap / MB, lagP99ms: m.lagP99 * 1000, lagMaxMs: m.lagMax * 1000, ...taken };
          samples.push(s);
          const p99s = OPERATIONS.filter((op) => s.latency[op].length).map((op) => `${op} ${percentile(s.latency[op], 99).toFixed(1)}`);
          log(`  ${Math.round(s.t)} s: RSS ${s.rssMB.toFixed(1)} MB, heap ${s.heapMB.toFixed(1)} MB, lag p99 ${s.lagP99ms.toFixed(1)} ms; ${s.requests} requests, ${s.errors} errors; p99 ms: ${p99s.join(', ')}`);
        }
      })();
      const activator = activate
        ? (async () => {
            await new Promise((r) => setTimeout(r, seconds * 500));
            const start = performance.now();
            let detail = '';
            const ok = await send(admin, JSON.stringify({ query: ACTIVATE, variables: { v: ffmVersion } }), (d) => ((detail = JSON.stringify(d.activateModel)), !!d.activateModel));
            activation = { start, end: performance.now(), ok, detail };
            log(`  activateModel ${ffmVersion}: ${ok ? 'ok' : 'FAILED'} in ${Math.round(activation.end - start)} ms ${detail}`);
          })()
        : Promise.resolve();
      for (let i = 0; i < total; i++) {
        const due = t0 + (i * 1000) / rate;
        if (due >= end) break;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        fire(ops[i]);
      }
      await activator;
      await Promise.all(pending);
      await sampler;
      const elapsed = (performance.now() - t0) / 1000;
      if (firstErrors.length) log(`first errors:\n  ${firstErrors.join('\n  ')}`);

      // 4. The figures.
      const results: BenchResult[] = [];
      const minutesAt = samples.map((s) => s.t / 60);
      for (const [i, s] of samples.entries()) {
        const at = `sample ${i + 1} (${Math.round(s.t)} s)`;
        results.push({ name: `${at}: server RSS`, value: s.rssMB, unit: 'MB' }, { name: `${at}: server heap used`, value: s.heapMB, unit: 'MB' });
        results.push({ name: `${at}: event-loop lag p99`, value: s.lagP99ms, unit: 'ms' }, { name: `${at}: event-loop lag max`, value: s.lagMaxMs, unit: 'ms' });
        results.push({ name: `${at}: requests`, value: s.requests, unit: 'requests' }, { name: `${at}: errors`, value: s.errors, unit: 'requests' });
        for (const op of OPERATIONS) {
          if (!s.latency[op].length) continue;
          results.push({ name: `${at}: ${op} p50`, value: percentile(s.latency[op], 50), unit: 'ms' }, { name: `${at}: ${op} p99`, value: percentile(s.latency[op], 99), unit: 'ms' });
        }
      }
      // Flat memory is a slope of 0: no baseline (a ratio to 0 says nothing).
      results.push({ name: 'RSS slope (least squares over the samples)', value: slope(minutesAt, samples.map((s) => s.rssMB)), unit: 'MB/min' });
      results.push({ name: 'heap used slope (least squares over the samples)', value: slope(minutesAt, samples.map((s) => s.heapMB)), unit: 'MB/min' });
      const first = samples[0];
      const last = samples[samples.length - 1];
      if (first && last) {
        results.push(withBaseline({ name: 'RSS, last sample', value: last.rssMB, unit: 'MB' }, { name: 'first sample', value: first.rssMB }));
        for (const op of OPERATIONS) {
          if (!first.latency[op].length || !last.latency[op].length) continue;
          results.push(withBaseline({ name: `${op} p99, last interval`, value: percentile(last.latency[op], 99), unit: 'ms' }, { name: 'first interval p99', value: percentile(first.latency[op], 99) }));
        }
      }
      results.push(withBaseline({ name: 'achieved request rate', value: sent / elapsed, unit: 'requests/s' }, { name: 'target', value: rate }));
      results.push({ name: 'requests', value: sent, unit: 'requests' }, { name: 'errors', value: errors, unit: 'requests' }, { name: 'not sent (in-flight cap reached)', value: skipped, unit: 'requests' });
      results.push({ name: 'posts uploaded (warm-up included)', value: uploaded, unit: 'posts' });
      if (activate) {
        const a = activation as { start: number; end: number; ok: boolean; detail: string } | null;
        if (!a) throw new Error('the activation did not run');
        const during = windows.filter((w) => w.start <= a.end && w.end >= a.start);
        const failed = during.filter((w) => !w.ok).length;
        if (failed) log(`WARNING: ${failed} requests failed during the activation`);
        results.push({ name: `activateModel ${ffmVersion} under load: duration`, value: a.end - a.start, unit: 'ms' });
        results.push({ name: 'activateModel under load: succeeded', value: a.ok ? 1 : 0, unit: 'bool' });
        results.push({ name: 'requests in flight or sent during the activation', value: during.length, unit: 'requests' });
        results.push({ name: 'requests failed during the activation (must be 0)', value: failed, unit: 'requests' });
      }
      return results;
    } finally {
      for (const c of clients) c.close();
      if (server) await stopServeChild(server.child);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
