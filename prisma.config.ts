// Prisma CLI configuration. `prisma generate` only needs a path to a schema engine binary, never runs it; migrations
// are applied by memer's own runner (src/data/migrate.ts), so the CDN-downloaded engine is never needed.
import { defineConfig } from 'prisma/config';

process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= new URL('./package.json', import.meta.url).pathname;

export default defineConfig({ schema: 'prisma/schema.prisma' });
