/**
 * Several MEMER models with the same feature inputs (the signals of one media type) run as one onnxruntime session:
 * their graphs merged side by side (onnx/merge.ts), the modality features and presence fed once, each model's own
 * `freq` input and `embedding` output under its prefix. One run per upload group instead of one per signal.
 * A member with a tag-average prior also has its own `tags` input (its own vocabulary), written from the posts' tags.
 */
import { mergeModels } from '../onnx/merge.js';
import type { OnnxRuntime } from '../onnx/runtime.js';
import type { Feed, Session } from '../onnx/session.js';
import type { MemerEmbedder, PostFeatures } from './inference.js';
import { INPUT, OUTPUT } from './model.js';

const prefix = (i: number) => `m${i}/`;

export class MemerEnsemble {
  private constructor(
    readonly session: Session,
    readonly members: readonly MemerEmbedder[],
  ) {}

  /** Whether two models read the same inputs (modalities and widths), i.e. can share a run. */
  static compatible(a: MemerEmbedder, b: MemerEmbedder): boolean {
    return JSON.stringify(a.info.modalities) === JSON.stringify(b.info.modalities);
  }

  /**
   * Merges the members' ONNX files (`bytes()` gives members[i]'s as its i-th) and loads the result under `key`, once
   * per key: `bytes` is called only when the runtime does not hold that session yet.
   */
  static async load(runtime: OnnxRuntime, key: string, members: readonly MemerEmbedder[], bytes: () => Promise<readonly Uint8Array[]>): Promise<MemerEnsemble> {
    if (members.length < 2) throw new Error('an ensemble needs at least two models');
    if (members.some((m) => !MemerEnsemble.compatible(m, members[0]))) throw new Error('ensemble members must read the same modality inputs');
    const shared = new Set([...members[0].info.modalities.map((s) => INPUT.modality(s.modality)), INPUT.presence]);
    const session = await runtime.load(key, async () => mergeModels((await bytes()).map((b, i) => ({ bytes: b, prefix: prefix(i) })), shared));
    return new MemerEnsemble(session, members);
  }

  /**
   * The embeddings of `posts` under every member in one run: one row-major [n, d] array per member. The posts' own
   * `freq` is not read: `freqs[i][k]` is member i's freq for post k (each model has its own views and scale).
   */
  async embedAll(posts: readonly Omit<PostFeatures, 'freq'>[], freqs: readonly Float32Array[]): Promise<Float32Array[]> {
    const n = posts.length;
    // The shared inputs (features, presence); a member's own tags rows are written below.
    const rows = this.members[0].feeds(posts.map((p) => ({ features: p.features, freq: 0, tags: [] })));
    const feeds: Record<string, Feed> = {};
    for (const s of this.session.inputs) {
      const member = /^m(\d+)\/(.*)$/.exec(s.name);
      // A member's own inputs: its freq, and the tag weights of a tag-average prior (each model has its vocabulary).
      const own = (i: number, name: string) =>
        name === INPUT.freq ? freqs[i] : name === INPUT.tags ? this.members[i].tagRows(posts) : undefined;
      const data = member ? own(Number(member[1]), member[2]) : rows[s.name];
      if (!data) throw new Error(`ensemble input "${s.name}" has no feed`);
      feeds[s.name] = { data, dims: [n, ...(s.shape.slice(1) as number[])] };
    }
    const names = this.members.map((_, i) => `${prefix(i)}${OUTPUT.embedding}`);
    const out = await this.session.run(feeds, names);
    return names.map((name) => out[name].data);
  }
}
