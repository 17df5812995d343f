/**
 * `memer bench limits`: what a query over a limit costs the server when refused, against what it costs when run.
 * On the demo platform (`npm start`'s: 2,000 posts, 1,500 users, trained and activated models; built in a temporary
 * folder, 20-90 s), two servers in this process over the same database, one with the default query limits and one
 * with every limit off (rate limits off on both), answer the same hostile queries over loopback HTTP, one at a time:
 *   aliases   200 aliased posts(first: 100) { edges { node { id embedding(signal) { vector } } } } (17 KB; the issue's)
 *   recs      300 aliased recommendations(first: 500) { post { id } score }
 *   cost      30 aliased posts(first: 100) with vectors: under the alias limit, over the cost limit (12,000)
 *   tokens    a document of 30,000 tokens ({ signals { a0: name a1: name ... } }: 10,000 aliased fields)
 * For each: p50 and p99 latency refused (the document is parsed and validated each time: a refused document is never
 * cached) and run (baseline; its document is cached after the first run), and the response sizes. A refused query's
 * CPU is what its latency says: client and server share this process and nothing else runs.
 * Parameters (--set): refused=200 (requests per refused case)  executed=10 (per run case)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../lib/logger.js';
import { startApp, type RunningApp } from '../server/app.js';
import { prepareDemo } from '../domain/demo/demo.js';
import { percentile, positiveArg, withBaseline, type Bench, type BenchResult } from './harness.js';
import { HttpClient } from './http-client.js';

const aliased = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

const CASES: { name: string; query: string; limit: string }[] = [
  { name: 'aliases', limit: 'aliases', query: aliased(200, 'posts(first: 100) { edges { node { id embedding(signal: "click") { vector } } } }') },
  { name: 'recs', limit: 'aliases', query: '' },
  { name: 'cost', limit: 'cost', query: aliased(30, 'posts(first: 100) { edges { node { id embedding(signal: "click") { vector } } } }') },
  { name: 'tokens', limit: 'tokens', query: `{ signals { ${Array.from({ length: 10_000 }, (_, i) => `a${i}: name`).join(' ')} } }` },
];

async function time(client: HttpClient, body: string, n: number): Promise<{ ms: number[]; bytes: number; reply: string }> {
  const ms: number[] = [];
  let reply = '';
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    reply = await client.post(body);
    ms.push(performance.now() - t);
  }
  return { ms, bytes: Buffer.byteLength(reply), reply };
}

export const bench: Bench = {
  summary: 'query limits: a refused over-limit query against the same query run (demo platform, loopback HTTP)',
  async run(args, log) {
    const refusedN = positiveArg(args, 'refused', 200, true);
    const executedN = positiveArg(args, 'executed', 10, true);
    const dir = mkdtempSync(join(tmpdir(), 'memer-bench-limits-'));
    const quiet = createLogger('warn');
    const base = loadConfig(process.env, { databaseUrl: `file:${join(dir, 'memer.db')}`, modelDir: join(dir, 'models'), host: '127.0.0.1', port: 0, ratePerKey: 0, ratePerAddress: 0 });
    const apps: RunningApp[] = [];
    const clients: HttpClient[] = [];
    try {
      const limited = await startApp(base, quiet, { hold: { demo: 'building the demo platform' } });
      apps.push(limited);
      const t0 = performance.now();
      await prepareDemo(limited.services, dir, quiet, log);
      await limited.services.refresh();
      await limited.services.index.warm();
      limited.readiness.release('demo');
      log(`demo platform ready in ${Math.round((performance.now() - t0) / 1000)} s`);
      const open = await startApp({ ...base, maxDepth: 0, maxAliases: 0, maxDirectives: 0, maxTokens: 0, maxCost: 0 }, quiet);
      apps.push(open);
      const user = (await limited.services.db.prisma.userEmbedding.findFirst({ where: { signal: { name: 'click' } }, select: { user: { select: { externalId: true } } } }))?.user.externalId ?? 'u0001';
      CASES[1].query = aliased(300, `recommendations(userId: "${user}", signal: "click", first: 500) { post { id } score }`);
      const client = (app: RunningApp) => {
        const url = new URL(app.url);
        const c = new HttpClient(url.hostname, Number(url.port), url.pathname, { 'content-type': 'application/json' });
        clients.push(c);
        return c;
      };
      const on = client(limited);
      const off = client(open);
      const results: BenchResult[] = [];
      for (const c of CASES) {
        const body = JSON.stringify({ query: c.query });
        const run = await time(off, body, executedN);
        if (run.reply.includes('QUERY_TOO_COMPLEX')) throw new Error(`${c.name}: refused with every limit off`);
        const refused = await time(on, body, refusedN);
        const code = (JSON.parse(refused.reply) as { errors?: { extensions?: { code?: string; limit?: string } }[] }).errors?.[0]?.extensions;
        if (code?.code !== 'QUERY_TOO_COMPLEX' || code.limit !== c.limit) throw new Error(`${c.name}: expected QUERY_TOO_COMPLEX (${c.limit}), got ${refused.reply.slice(0, 300)}`);
        const p50 = { refused: percentile(refused.ms, 50), run: percentile(run.ms, 50) };
        log(`${c.name}: document ${Buffer.byteLength(body)} bytes; refused p50 ${p50.refused.toFixed(3)} ms (${refused.bytes} bytes), run p50 ${p50.run.toFixed(1)} ms (${run.bytes} bytes)`);
        results.push(
          withBaseline({ name: `${c.name}: refused p50`, value: p50.refused, unit: 'ms' }, { name: 'run p50', value: p50.run }),
          withBaseline({ name: `${c.name}: refused p99`, value: percentile(refused.ms, 99), unit: 'ms' }, { name: 'run p99', value: percentile(run.ms, 99) }),
          withBaseline({ name: `${c.name}: response refused`, value: refused.bytes, unit: 'bytes' }, { name: 'run', value: run.bytes }),
        );
      }
      return results;
    } finally {
      for (const c of clients) c.close();
      for (const app of apps.reverse()) await app.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
