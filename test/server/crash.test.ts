/**
 * Durability under crashes: `kill -9` of a serving `memer serve` in the middle of a stream of registerPost,
 * registerPosts and recordInteractions calls, at a random moment, several times over the same database, on SQLite and
 * on PostgreSQL. After each crash (and the restart that follows): every write a client saw acknowledged is stored,
 * no batch is stored in part, no video post exists without the MEMER vectors of the active models, and the per post
 * counts agree with the interactions. MEMER_TEST_CRASH_SEED repeats a run (the seed is printed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PROVIDERS } from '../helpers/databases.js';
import { gql, killServer, liveDatabase, rng, spawnServer, type LiveDatabase, type LiveServer } from './live-server.js';
import { emptyLedger, verify, writeStream } from './write-stream.js';

const ROUNDS = 4;
/**
 * Kill at a random moment in this range (ms) after the stream has warmed up (WARM acknowledgements: a fresh process's
 * first requests are slow), when writes of every kind are in flight.
 */
const KILL_MS = [0, 700] as const;
const WARM = 10;

for (const provider of PROVIDERS) {
  describe(`kill -9 during a stream of writes: memer serve on ${provider}`, () => {
    let db: LiveDatabase;
    let server: LiveServer | undefined;
    before(async () => (db = await liveDatabase(provider, { models: true })));
    after(async () => {
      await killServer(server);
      await db.drop();
    });

    test(`${ROUNDS} crashes at random moments: every acknowledged write survives, none in part, no post without its vectors`, async () => {
      const seed = Number(process.env.MEMER_TEST_CRASH_SEED ?? Date.now() % 100_000);
      const random = rng(seed);
      const ledger = emptyLedger();
      const kills: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        server = await spawnServer(db.env);
        const running = server;
        const killMs = Math.round(KILL_MS[0] + random() * (KILL_MS[1] - KILL_MS[0]));
        const before = ledger.acked;
        let timer: NodeJS.Timeout | undefined;
        await writeStream(server.url, db.key, ledger, {
          prefix: `r${round}`,
          seed: seed + round,
          onAck: (l) => {
            if (l.acked === before + WARM) timer = setTimeout(() => running.child.kill('SIGKILL'), killMs);
          },
        });
        clearTimeout(timer);
        kills.push(`${killMs} ms (${ledger.acked - before} acknowledged)`);
        assert.equal((await server.exited).signal, 'SIGKILL');
        const check = await db.open();
        try {
          const problems = await verify(check, ledger, { vectors: true });
          assert.deepEqual(problems, [], `seed ${seed}, round ${round}`);
        } finally {
          await check.close();
        }
      }
      assert.deepEqual(ledger.unexpected, [], `seed ${seed}: every answer was an acknowledgement`);
      // Restarted once more: the crashed database serves, and what was acknowledged is there.
      server = await spawnServer(db.env);
      const check = await db.open();
      try {
        assert.deepEqual(await verify(check, ledger, { vectors: true }), [], `seed ${seed}, after the restart`);
      } finally {
        await check.close();
      }
      const last = [...ledger.posts.keys()].at(-1)!;
      assert.equal((await gql(server.url, null, 'query($id: ID!) { post(id: $id) { id } }', { id: last })).body.data.post.id, last);
      server.child.kill('SIGTERM');
      assert.equal((await server.exited).code, 0);
      const pending = ledger.pendingPosts.length + ledger.pendingInteractions.size;
      console.log(`# ${provider}: seed ${seed}, killed after ${kills.join(', ')}; ${ledger.acked} acknowledged, ${pending} unanswered`);
    });
  });
}
