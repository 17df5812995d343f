/** SQLite's second connection for the upload path: it shares the file with Prisma without deadlocking or tearing. */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { test } from 'node:test';
import { openDatabase } from '../../src/data/db.js';
import { migrate } from '../../src/data/migrate.js';
import { sqliteDate } from '../../src/data/direct-sqlite.js';
import { tempDatabase } from '../helpers/databases.js';

const INSERT = `INSERT INTO "Post" ("externalId", "mediaType", "text", "createdAt", "registeredAt", "payloadHash") VALUES (?, 'VIDEO', '', ?, ?, '')`;

test('a direct transaction waits for a Prisma transaction holding the write lock, without blocking the event loop', async () => {
  const temp = await tempDatabase('sqlite');
  await migrate(temp.url);
  const db = await openDatabase(temp.url);
  try {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let prismaInside!: () => void;
    const inside = new Promise<void>((r) => (prismaInside = r));
    const prismaTx = db.prisma.$transaction(async (tx) => {
      await tx.post.create({ data: { externalId: 'by-prisma', mediaType: 'VIDEO', createdAt: new Date(), payloadHash: '' } });
      prismaInside();
      await held; // holds SQLite's write lock across awaits, as an interactive transaction does
    });
    await inside;
    const now = new Date();
    const direct = db.direct!.transaction(() => db.direct!.run(INSERT, 'by-direct', sqliteDate(now), sqliteDate(now)).lastInsertRowid);
    // The event loop still runs while the direct transaction waits: timers fire, and the Prisma transaction finishes.
    await new Promise((r) => setTimeout(r, 30));
    release();
    await prismaTx;
    assert.ok(Number(await direct) > 0);
    const rows = await db.prisma.post.findMany({ orderBy: { id: 'asc' }, select: { externalId: true, createdAt: true } });
    assert.deepEqual(rows.map((r) => r.externalId), ['by-prisma', 'by-direct']);
    // Dates written by the direct connection read back through Prisma as the same instant.
    assert.equal(rows[1].createdAt.getTime(), now.getTime());
  } finally {
    await db.close();
    await temp.drop();
  }
});

test('an exception inside a direct transaction rolls it back', async () => {
  const temp = await tempDatabase('sqlite');
  await migrate(temp.url);
  const db = await openDatabase(temp.url);
  try {
    const at = sqliteDate(new Date());
    await assert.rejects(
      db.direct!.transaction(() => {
        db.direct!.run(INSERT, 'half', at, at);
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await db.prisma.post.count(), 0);
  } finally {
    await db.close();
    await temp.drop();
  }
});

test('a serving process checkpoints the WAL on a worker thread, not inside commits', async () => {
  const temp = await tempDatabase('sqlite');
  await migrate(temp.url);
  const db = await openDatabase(temp.url);
  const file = temp.url.slice('file:'.length);
  try {
    await db.backgroundCheckpoints();
    const before = statSync(file).size;
    const at = sqliteDate(new Date());
    const blob = new Uint8Array(4096).fill(7);
    // ~8 MB of pages: past SQLite's automatic checkpoint (1000 pages), which is off now.
    await db.direct!.transaction(() => {
      for (let i = 0; i < 2000; i++) {
        const key = db.direct!.run(INSERT, `p${i}`, at, at).lastInsertRowid;
        db.direct!.run(`INSERT INTO "PostFeature" ("postId", "modality", "dtype", "dim", "data") VALUES (?, 'VISUAL', 'FLOAT16', 2048, ?)`, key, blob);
      }
    });
    assert.ok(statSync(file).size - before < 1_000_000, 'the commit itself did not checkpoint');
    const deadline = Date.now() + 10_000;
    while (statSync(file).size - before < 8_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(statSync(file).size - before >= 8_000_000, 'the worker copied the WAL into the database file');
    assert.equal(await db.prisma.postFeature.count(), 2000);
  } finally {
    await db.close();
    await temp.drop();
  }
});
