// Worker entry point: workers do not inherit tsx's loader, so register it here, then load the TypeScript module
// named in workerData.entry (see spawnWorker in ./workers.ts).
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register({ tsconfig: new URL('../../tsconfig.json', import.meta.url).pathname }); // as bin/memer.js does
await import(workerData.entry);
