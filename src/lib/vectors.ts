/** Float32 vectors <-> little-endian bytes, the storage format of embeddings (Bytes columns). */
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A copy of a typed array's buffer range (a memcpy): on a little-endian machine, its stored bytes. */
const copyOf = (view: ArrayBufferView): ArrayBuffer => view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;

/**
 * The buffer of `bytes` itself when they fill it and the caller hands them over (`owned`), else a copy: reading bytes
 * in place skips an allocation (~1.5-3 us each, measured with a one-off loop).
 */
const bufferOf = (bytes: Uint8Array, owned: boolean): ArrayBuffer =>
  owned && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : copyOf(bytes);

export function vectorToBytes(v: Float32Array | readonly number[]): Uint8Array<ArrayBuffer> {
  const f = v instanceof Float32Array ? v : Float32Array.from(v);
  if (littleEndian) return new Uint8Array(copyOf(f));
  const out = new Uint8Array(f.length * 4);
  const view = new DataView(out.buffer);
  f.forEach((x, i) => view.setFloat32(i * 4, x, true));
  return out;
}

/**
 * The stored bytes of a vector or of float16 halves, as a view on them where the machine is little-endian (no copy, no
 * allocation): for a consumer that copies them itself (SQLite binding a parameter) or only reads them. Each upload
 * stores ~10 of these; the copies were ~5% of its main-thread CPU (`memer bench serve --set profile=DIR`).
 */
export function bytesOf(v: Float32Array | Uint16Array): Uint8Array<ArrayBuffer> {
  if (littleEndian) return new Uint8Array(v.buffer as ArrayBuffer, v.byteOffset, v.byteLength);
  return v instanceof Float32Array ? vectorToBytes(v) : halvesToBytes(v);
}

/** `owned`: the caller hands `bytes` over (nothing else will write them), so they may be read in place. */
export function bytesToVector(bytes: Uint8Array, owned = false): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new Error(`vector byte length ${bytes.byteLength} is not a multiple of 4`);
  if (littleEndian) return new Float32Array(bufferOf(bytes, owned));
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

export function bytesToHalves(bytes: Uint8Array, owned = false): Uint16Array {
  if (littleEndian && bytes.byteLength % 2 === 0) return new Uint16Array(bufferOf(bytes, owned));
  const out = new Uint16Array(bytes.byteLength / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint16(i * 2, true);
  return out;
}
