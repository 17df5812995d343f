/**
 * Side-by-side merge of ONNX models into one: every part keeps its own nodes, weights and outputs under a name
 * prefix, and the inputs named in `shared` (same type and shape in every part) are fed once. Serving runs the MEMER
 * models of all signals of a media type on the same upload features; one merged session does that in one run instead
 * of one per signal, which saves onnxruntime's per-run overhead and the feed copies (see MemerEnsemble).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type IModelProto = onnxProto.onnx.IModelProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;

export interface MergePart {
  bytes: Uint8Array;
  /** Prefix of this part's names in the merged model; its output `embedding` becomes `${prefix}embedding`. */
  prefix: string;
}

const typeKey = (v: IValueInfoProto) => JSON.stringify(onnx.TypeProto.toObject(onnx.TypeProto.create(v.type ?? {})));

export function mergeModels(parts: readonly MergePart[], shared: ReadonlySet<string>): Uint8Array {
  if (parts.length === 0) throw new Error('nothing to merge');
  if (new Set(parts.map((p) => p.prefix)).size !== parts.length) throw new Error('merge prefixes must differ');
  const models = parts.map((p) => onnx.ModelProto.decode(p.bytes));
  const opsets = (m: IModelProto) => JSON.stringify((m.opsetImport ?? []).map((o) => [o.domain ?? '', Number(o.version)]).sort());
  if (models.some((m) => opsets(m) !== opsets(models[0]))) throw new Error('models to merge import different opsets');

  const sharedInputs = new Map<string, IValueInfoProto>();
  const graph = { name: 'merged', node: [] as onnxProto.onnx.INodeProto[], initializer: [] as onnxProto.onnx.ITensorProto[], input: [] as IValueInfoProto[], output: [] as IValueInfoProto[], valueInfo: [] as IValueInfoProto[] };
  models.forEach((model, i) => {
    const g = model.graph!;
    const prefix = parts[i].prefix;
    // '' marks an omitted optional input: it stays ''.
    const rename = (name: string) => (name === '' || shared.has(name) ? name : `${prefix}${name}`);
    for (const input of g.input ?? []) {
      if (!shared.has(input.name!)) {
        graph.input.push({ ...input, name: rename(input.name!) });
        continue;
      }
      const seen = sharedInputs.get(input.name!);
      if (!seen) sharedInputs.set(input.name!, input);
      else if (typeKey(seen) !== typeKey(input)) throw new Error(`shared input "${input.name}" differs between the models`);
    }
    for (const node of g.node ?? []) {
      if ((node.attribute ?? []).some((a) => a.g || (a.graphs && a.graphs.length))) throw new Error(`node ${node.name} has a subgraph; merging those is not supported`);
      graph.node.push({ ...node, name: node.name ? `${prefix}${node.name}` : node.name, input: (node.input ?? []).map(rename), output: (node.output ?? []).map(rename) });
    }
    for (const t of g.initializer ?? []) graph.initializer.push({ ...t, name: rename(t.name!) });
    for (const v of g.valueInfo ?? []) graph.valueInfo.push({ ...v, name: rename(v.name!) });
    for (const o of g.output ?? []) graph.output.push({ ...o, name: rename(o.name!) });
  });
  const missing = [...shared].filter((s) => !sharedInputs.has(s));
  if (missing.length) throw new Error(`no model has the shared input(s) ${missing.join(', ')}`);
  graph.input.unshift(...sharedInputs.values());
  const merged = onnx.ModelProto.create({
    irVersion: models[0].irVersion,
    opsetImport: models[0].opsetImport,
    producerName: 'memer-merge',
    producerVersion: '1',
    graph,
  });
  return onnx.ModelProto.encode(merged).finish();
}
