#!/usr/bin/env node
// The `memer` command. TypeScript sources run through tsx's loader, so a clone needs no build step.
import { register } from 'tsx/esm/api';

// No telemetry from onnxruntime's native library (src/ml/onnx/telemetry-off.ts): set before anything loads it.
process.env.ORT_DISABLE_TELEMETRY ??= '1';

// The project's tsconfig by path (decorators for type-graphql): tsx would otherwise look for one in the working
// directory, and `memer` run from any other folder could not load the GraphQL types.
register({ tsconfig: new URL('../tsconfig.json', import.meta.url).pathname });
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
