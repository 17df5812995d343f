/** PostgreSQL's upload write on the direct pool: the rows Prisma reads back, at the same instants, in any time zone. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openDatabase, type Db } from '../../src/data/db.js';
import { migrate } from '../../src/data/migrate.js';
import { writeUploadsPg } from '../../src/domain/uploads/write-pg.js';
import type { NormalizedPost } from '../../src/domain/posts/post.validation.js';
import { tempDatabase, type TempDatabase } from '../helpers/databases.js';

let temp: TempDatabase;
let db: Db;
const zone = process.env.TZ;
before(async () => {
  temp = await tempDatabase('postgresql');
  await migrate(temp.url);
  db = await openDatabase(temp.url);
  // node-postgres parses `timestamp` columns as local time; the write path must not depend on the server's zone.
  process.env.TZ = 'Asia/Kolkata';
});
after(async () => {
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
  await db.close();
  await temp.drop();
});

const post = (id: string, hash = 'h1'): NormalizedPost => ({
  externalId: id, mediaType: 'IMAGE', text: 'hello', tags: ['b', 'a'], createdAt: new Date('2024-03-05T06:07:08.901Z'), payloadHash: hash,
  features: [{ modality: 'TEXT', dim: 2, halves: Uint16Array.of(0x3c00, 0x4000), data: new Uint8Array(Uint16Array.of(0x3c00, 0x4000).buffer) }],
});

test('a group is stored with its tags, features and vectors; a retry reads the same post back; another payload is a CONFLICT', async () => {
  const vector = Float32Array.of(0.5, -1);
  const signal = await db.prisma.signal.findFirstOrThrow({ where: { name: 'click' } });
  const rows = [{ postKey: -1, signalKey: signal.id, source: 'MEMER' as const, modelVersionKey: null, vector, views: 0 }];
  const first = await db.pg!.transaction((tx) => writeUploadsPg(tx, [post('pg1'), post('pg2')], rows, false));
  assert.deepEqual([...first.written.created].sort(), ['pg1', 'pg2']);
  assert.equal(first.stored.length, 1);
  const stored = await db.prisma.post.findUniqueOrThrow({ where: { externalId: 'pg1' }, include: { tags: true, features: true, embeddings: true } });
  assert.equal(stored.createdAt.toISOString(), '2024-03-05T06:07:08.901Z');
  assert.equal(stored.registeredAt.getTime(), first.written.at.getTime());
  assert.deepEqual(stored.tags.map((t) => t.tag).sort(), ['a', 'b']);
  assert.deepEqual([...stored.features[0].data], [0x00, 0x3c, 0x00, 0x40]);
  assert.deepEqual(new Float32Array(new Uint8Array(stored.embeddings[0].vector).buffer), vector);
  assert.equal(stored.embeddings[0].updatedAt.getTime(), first.written.at.getTime());

  const again = await db.pg!.transaction((tx) => writeUploadsPg(tx, [post('pg1')], [], false));
  assert.equal(again.written.created.size, 0);
  const record = again.written.records.get('pg1')!;
  assert.deepEqual([record.key, record.createdAt.toISOString(), record.registeredAt.getTime(), record.tags], [stored.id, '2024-03-05T06:07:08.901Z', stored.registeredAt.getTime(), ['a', 'b']]);
  await assert.rejects(db.pg!.transaction((tx) => writeUploadsPg(tx, [post('pg1', 'h2')], [], false)), /already registered with a different payload/);
  assert.equal(await db.prisma.post.count(), 2, 'the failed transaction wrote nothing');
});

test('an idle connection the database drops is replaced, and the process carries on', async () => {
  const [{ pid }] = await db.pg!.query<{ pid: number }>('SELECT pg_backend_pid() AS "pid"');
  const admin = await db.prisma.$queryRawUnsafe<{ ok: boolean }[]>('SELECT pg_terminate_backend($1) AS "ok"', pid);
  assert.equal(admin[0].ok, true);
  await new Promise((r) => setTimeout(r, 200)); // the pool sees the connection close
  const [{ one }] = await db.pg!.query<{ one: number }>('SELECT 1 AS "one"');
  assert.equal(one, 1);
});
