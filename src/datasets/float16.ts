/** float16 conversion lives in src/lib/float16.ts (a shared primitive); this re-export keeps the ML core's imports. */
export * from '../lib/float16.js';
