/**
 * Run by export.test.ts in a fresh process: loads an exported MEMER model through the runtime and prints its
 * metadata and the embeddings of the posts in a JSON file. Usage: node --import tsx exported-runner.ts model.onnx posts.json
 */
import { readFile } from 'node:fs/promises';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';
import { MemerEmbedder, type PostFeatures } from '../../../src/ml/memer/inference.js';

const [modelPath, postsPath] = process.argv.slice(2);
const raw = JSON.parse(await readFile(postsPath, 'utf8')) as { features: Record<string, number[]>; freq: number }[];
const posts: PostFeatures[] = raw.map((p) => ({
  freq: p.freq,
  features: Object.fromEntries(Object.entries(p.features).map(([k, v]) => [k, Float32Array.from(v)])),
}));
const runtime = new OnnxRuntime({ provider: 'cpu', intraOpThreads: 1 });
const embedder = await MemerEmbedder.load(runtime, 'exported', modelPath);
const batch = await embedder.embedMany(posts);
const single = await Promise.all(posts.map((p) => embedder.embed(p)));
process.stdout.write(JSON.stringify({ info: embedder.info, inputs: embedder.session.inputs, batch: Array.from(batch), single: single.map((s) => Array.from(s)), runs: embedder.stats.runs }));
await runtime.dispose();
