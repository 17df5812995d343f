/** Float32 vectors <-> little-endian bytes, the storage format of embeddings (Bytes columns). */
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A copy of a typed array's buffer range (a memcpy): on a little-endian machine, its stored bytes. */
const copyOf = (view: ArrayBufferView): ArrayBuffer => view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;

export function vectorToBytes(v: Float32Array | readonly number[]): Uint8Array<ArrayBuffer> {
  const f = v instanceof Float32Array ? v : Float32Array.from(v);
  if (littleEndian) return new Uint8Array(copyOf(f));
  const out = new Uint8Array(f.length * 4);
  const view = new DataView(out.buffer);
  f.forEach((x, i) => view.setFloat32(i * 4, x, true));
  return out;
}

export function bytesToVector(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new Error(`vector byte length ${bytes.byteLength} is not a multiple of 4`);
  if (littleEndian) return new Float32Array(copyOf(bytes));
  const out = new Float32Array(bytes.byteLength / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Little-endian uint16 halves <-> bytes (float16 features). */
export function halvesToBytes(h: Uint16Array): Uint8Array<ArrayBuffer> {
  if (littleEndian) return new Uint8Array(copyOf(h));
  const out = new Uint8Array(h.length * 2);
  const view = new DataView(out.buffer);
  h.forEach((x, i) => view.setUint16(i * 2, x, true));
  return out;
}

export function bytesToHalves(bytes: Uint8Array): Uint16Array {
  if (littleEndian && bytes.byteLength % 2 === 0) return new Uint16Array(copyOf(bytes));
  const out = new Uint16Array(bytes.byteLength / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint16(i * 2, true);
  return out;
}
