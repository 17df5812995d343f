/**
 * Maps id byte strings to dense indices 0..n-1 without creating a JS string per lookup: an open-addressing hash table
 * (FNV-1a over the bytes, linear probing) whose keys live back to back in one byte arena. A string is decoded once per
 * distinct id, for `ids`. This is what lets 10M interaction rows resolve their user and item ids quickly.
 */

export class ByteInterner {
  /** The distinct ids in first-seen order; index = dense id. */
  readonly ids: string[] = [];
  private slots = new Int32Array(1024).fill(-1);
  private hashes: Int32Array<ArrayBuffer> = new Int32Array(512);
  private keyStart: Int32Array<ArrayBuffer> = new Int32Array(512);
  private keyEnd: Int32Array<ArrayBuffer> = new Int32Array(512);
  private arena = Buffer.allocUnsafe(1 << 16);
  private arenaLen = 0;

  get size(): number {
    return this.ids.length;
  }

  /** Index of bytes[start, end), or -1 when absent. */
  find(bytes: Uint8Array, start: number, end: number): number {
    const h = hashBytes(bytes, start, end);
    const mask = this.slots.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const idx = this.slots[s];
      if (idx < 0) return -1;
      if (this.hashes[idx] === h && this.same(idx, bytes, start, end)) return idx;
    }
  }

  /** Index of bytes[start, end), adding it (decoded as `encoding`) when new. */
  intern(bytes: Uint8Array, start: number, end: number, encoding: 'utf8' | 'latin1' = 'utf8'): number {
    const h = hashBytes(bytes, start, end);
    const mask = this.slots.length - 1;
    let s = h & mask;
    for (; ; s = (s + 1) & mask) {
      const idx = this.slots[s];
      if (idx < 0) break;
      if (this.hashes[idx] === h && this.same(idx, bytes, start, end)) return idx;
    }
    const id = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString(encoding);
    return this.insert(s, h, bytes, start, end, id);
  }

  /** Index of a string id, adding it when new. */
  internString(id: string): number {
    const b = Buffer.from(id, 'utf8');
    const h = hashBytes(b, 0, b.length);
    const mask = this.slots.length - 1;
    let s = h & mask;
    for (; ; s = (s + 1) & mask) {
      const idx = this.slots[s];
      if (idx < 0) break;
      if (this.hashes[idx] === h && this.same(idx, b, 0, b.length)) return idx;
    }
    return this.insert(s, h, b, 0, b.length, id);
  }

  /** Index of a string id, or -1. */
  findString(id: string): number {
    const b = Buffer.from(id, 'utf8');
    return this.find(b, 0, b.length);
  }

  private same(idx: number, bytes: Uint8Array, start: number, end: number): boolean {
    const a = this.keyStart[idx];
    const len = end - start;
    if (this.keyEnd[idx] - a !== len) return false;
    const arena = this.arena;
    for (let k = 0; k < len; k++) if (arena[a + k] !== bytes[start + k]) return false;
    return true;
  }

  private insert(slot: number, h: number, bytes: Uint8Array, start: number, end: number, id: string): number {
    const idx = this.ids.length;
    const len = end - start;
    if (idx >= this.hashes.length) {
      this.hashes = growInt32(this.hashes);
      this.keyStart = growInt32(this.keyStart);
      this.keyEnd = growInt32(this.keyEnd);
    }
    if (this.arenaLen + len > this.arena.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.arenaLen + len));
      this.arena.copy(bigger, 0, 0, this.arenaLen);
      this.arena = bigger;
    }
    for (let k = 0; k < len; k++) this.arena[this.arenaLen + k] = bytes[start + k];
    this.keyStart[idx] = this.arenaLen;
    this.keyEnd[idx] = this.arenaLen + len;
    this.arenaLen += len;
    this.hashes[idx] = h;
    this.ids.push(id);
    this.slots[slot] = idx;
    if (this.ids.length * 2 > this.slots.length) this.rehash();
    return idx;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let idx = 0; idx < this.ids.length; idx++) {
      let s = this.hashes[idx] & mask;
      while (slots[s] >= 0) s = (s + 1) & mask;
      slots[s] = idx;
    }
    this.slots = slots;
  }
}

function growInt32(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** FNV-1a (32-bit) with a final avalanche so that the low bits used for the slot are well mixed. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let k = start; k < end; k++) h = Math.imul(h ^ bytes[k], 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) & 0x7fffffff;
}
