import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { loadMigrations, migrate } from '../../src/data/migrate.js';
import { sqlitePath } from '../../src/data/provider.js';
import { pendingSchemaSql, postgresSchemaFrom, schemaPaths } from '../../src/data/schema-engine.js';
import { PROVIDERS, tempDatabase } from '../helpers/databases.js';

describe('schemas and migrations', () => {
  test('prisma/postgresql/schema.prisma is generated from prisma/schema.prisma (run `memer db generate`)', () => {
    assert.equal(readFileSync(schemaPaths.postgresql, 'utf8'), postgresSchemaFrom(readFileSync(schemaPaths.sqlite, 'utf8')));
  });

  test('both providers have the same migrations', () => {
    assert.deepEqual(loadMigrations('sqlite').map((m) => m.name), loadMigrations('postgresql').map((m) => m.name));
  });

  for (const provider of PROVIDERS) {
    test(`${provider}: the committed migrations build exactly the Prisma schema, and a schema change is detected`, async () => {
      const db = await tempDatabase(provider);
      try {
        assert.equal(await pendingSchemaSql(provider, db.url), '', 'schema drifted from migrations: run `npm run memer -- db generate --name <change>`');
        const changed = readFileSync(schemaPaths[provider], 'utf8').replace('  text         String          @default("")\n', '  text         String          @default("")\n  language     String?\n');
        assert.match(await pendingSchemaSql(provider, db.url, changed), /language/);
      } finally {
        await db.drop();
      }
    });

    test(`${provider}: migrate is idempotent and seeds the paper's six signals`, async () => {
      const db = await tempDatabase(provider);
      try {
        const first = await migrate(db.url);
        assert.deepEqual(first.applied, loadMigrations(provider).map((m) => m.name));
        const again = await migrate(db.url);
        assert.deepEqual(again.applied, []);
        assert.equal(again.alreadyApplied, first.applied.length);
      } finally {
        await db.drop();
      }
    });
  }

  test('a migration edited after it was applied is refused', async () => {
    const db = await tempDatabase('sqlite');
    try {
      await migrate(db.url);
      const raw = new Database(sqlitePath(db.url));
      raw.prepare(`UPDATE _memer_migrations SET checksum = 'x' WHERE name = '0001_init'`).run();
      raw.close();
      await assert.rejects(migrate(db.url), /0001_init was changed after it was applied/);
    } finally {
      await db.drop();
    }
  });
});

