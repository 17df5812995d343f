/**
 * Development tooling around Prisma's schema engine (the WebAssembly build, so no native engine download): keeps
 * prisma/postgresql/schema.prisma in step with prisma/schema.prisma, and computes the SQL that takes a database built
 * from the committed migrations to the current schema. That SQL is the next migration (`memer db generate`), and
 * must be empty in a healthy tree (the drift test).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { migrate } from './migrate.js';
import type { Provider } from './provider.js';

export const schemaPaths: Record<Provider, URL> = {
  sqlite: new URL('../../prisma/schema.prisma', import.meta.url),
  postgresql: new URL('../../prisma/postgresql/schema.prisma', import.meta.url),
};

/** The PostgreSQL schema is the SQLite one with another datasource provider and client output. */
export function postgresSchemaFrom(sqliteSchema: string): string {
  const body = sqliteSchema.replace(/^(\/\/[^\n]*\n)+\n/, '');
  const out = body
    .replace('output              = "../src/generated/sqlite"', 'output              = "../../src/generated/postgresql"')
    .replace(/provider = "sqlite"/, 'provider = "postgresql"');
  if (out === body) throw new Error('prisma/schema.prisma no longer has the expected generator/datasource lines');
  return `// GENERATED from prisma/schema.prisma by \`npm run memer -- db generate\`: edit that file, not this one.\n\n${out}`;
}

type Engine = {
  diff(params: unknown): Promise<{ exitCode: number; stdout: string | null }>;
  free(): void;
};

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, unknown>) => { exports: Record<string, unknown> };
}

let engineModule: Promise<{ SchemaEngine: { new: (o: unknown, log: (s: string) => void, a: unknown) => Promise<Engine> } }> | undefined;

/** Node 20 cannot import the package's .wasm directly: instantiate it ourselves and hand it to the JS glue. */
function loadEngineModule() {
  engineModule ??= (async () => {
    const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown };
    // The glue reports a Rust panic through this global before throwing; print it so the failure is readable.
    g.PRISMA_WASM_PANIC_REGISTRY ??= { set_message: (m: string) => console.error(`prisma schema engine: ${m}`) };
    const glue = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as Record<string, unknown>;
    const require = createRequire(import.meta.url);
    const wasmPath = require.resolve('@prisma/schema-engine-wasm').replace(/schema_engine\.js$/, 'schema_engine_bg.wasm');
    // @types/node 20 has no WebAssembly typings; the API is the standard one.
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const instance = new wasm.Instance(new wasm.Module(readFileSync(wasmPath)), { './schema_engine_bg.js': glue });
    (glue.__wbg_set_wasm as (x: unknown) => void)(instance.exports);
    (instance.exports.__wbindgen_start as (() => void) | undefined)?.();
    return glue as never;
  })();
  return engineModule;
}

/**
 * adapter-pg refuses the catalog's `"char"` columns (OID 18) that the engine's describer reads; they are plain
 * one-character strings, so report them as text (OID 25).
 */
function pgAdapterForDescribe(url: string): SqlMigrationAwareDriverAdapterFactory {
  const factory = new PrismaPg(url);
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const io = adapter as unknown as { performIO: (q: unknown) => Promise<{ fields: { dataTypeID: number }[] }> };
    const performIO = io.performIO.bind(adapter);
    io.performIO = async (q) => {
      const res = await performIO(q);
      for (const f of res.fields) if (f.dataTypeID === 18) f.dataTypeID = 25;
      return res;
    };
    return adapter;
  };
  return factory as unknown as SqlMigrationAwareDriverAdapterFactory;
}

/**
 * SQL that takes a database built from the committed migrations to the current Prisma schema ('' when they agree).
 * `scratchUrl` must name an empty database; the migrations are applied to it first. `schemaText` overrides the file.
 */
export async function pendingSchemaSql(provider: Provider, scratchUrl: string, schemaText?: string): Promise<string> {
  await migrate(scratchUrl);
  const path = schemaPaths[provider].pathname;
  const content = schemaText ?? readFileSync(path, 'utf8');
  const files = [{ path, content }];
  const factory = provider === 'sqlite' ? new PrismaBetterSqlite3({ url: scratchUrl }) : pgAdapterForDescribe(scratchUrl);
  const adapter = bindMigrationAwareSqlAdapterFactory(factory as SqlMigrationAwareDriverAdapterFactory);
  const { SchemaEngine } = await loadEngineModule();
  const engine = await SchemaEngine.new({ datamodels: [[path, content]] }, () => undefined, adapter);
  try {
    const result = await engine.diff({
      from: { tag: 'schemaDatasource', files, configDir: process.cwd() },
      to: { tag: 'schemaDatamodel', files },
      script: true,
      exitCode: true,
      filters: { externalTables: [provider === 'sqlite' ? '_memer_migrations' : 'public._memer_migrations'], externalEnums: [] },
    });
    return result.exitCode === 2 ? (result.stdout ?? '') : '';
  } finally {
    engine.free();
  }
}
