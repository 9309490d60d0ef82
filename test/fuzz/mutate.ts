// A small seeded mutator for reader fuzzing: the byte-level damage real files get (bit flips, inserted
// and deleted runs, truncation, spliced chunks) plus the hostile kind (length and count fields set huge),
// and a structural mutator for JSON inputs. Deterministic for a seed, so any case can be replayed.

/** mulberry32: small, fast, good enough to spread mutations. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x0d, 0x1b, 0x27, 0x29, 0x2c];
// Varints and little-endian words that decode to sizes around 2^31, 2^32 and 2^53 or to -1.
const HUGE_FIELDS: readonly number[][] = [
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0x80, 0x80, 0x80, 0x80, 0x08],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0xff, 0xff, 0xff, 0x7f],
  [0x00, 0x00, 0x00, 0x80],
  [0xff, 0xff],
];

/** One to four random mutations of `src` (never changes `src`). */
export function mutateBytes(src: Uint8Array, r: () => number): Uint8Array {
  let b: Uint8Array = src.slice();
  const pick = (n: number) => Math.floor(r() * n);
  // Mutations near the start hit headers and the outer message fields more often than uniformly.
  const pos = (len: number) => (len === 0 ? 0 : r() < 0.5 ? pick(Math.min(len, 256)) : pick(len));
  const count = 1 + pick(4);
  for (let m = 0; m < count; m++) {
    const op = pick(9);
    if (op === 0 && b.length) {
      const p = pos(b.length);
      b[p] ^= 1 << pick(8);
    } else if (op === 1 && b.length) {
      b[pos(b.length)] = INTERESTING_BYTES[pick(INTERESTING_BYTES.length)];
    } else if (op === 2) {
      const p = pos(b.length);
      const ins = Uint8Array.from({ length: 1 + pick(16) }, () => pick(256));
      b = concat(b.subarray(0, p), ins, b.subarray(p));
    } else if (op === 3 && b.length) {
      const p = pos(b.length);
      b = concat(b.subarray(0, p), b.subarray(Math.min(b.length, p + 1 + pick(32))));
    } else if (op === 4 && b.length) {
      b = b.slice(0, pick(b.length));
    } else if (op === 5 && b.length) {
      const f = HUGE_FIELDS[pick(HUGE_FIELDS.length)];
      const p = pos(b.length);
      if (r() < 0.5) for (let i = 0; i < f.length && p + i < b.length; i++) b[p + i] = f[i];
      else b = concat(b.subarray(0, p), Uint8Array.from(f), b.subarray(p));
    } else if (op === 6 && b.length > 2) {
      // Splice a chunk of the file elsewhere: repeated fields, nested messages in the wrong place.
      const s = pick(b.length);
      const chunk = b.slice(s, Math.min(b.length, s + 1 + pick(64)));
      const p = pos(b.length);
      b = concat(b.subarray(0, p), chunk, b.subarray(p));
    } else if (op === 7 && b.length) {
      const p = pos(b.length);
      b[p] = (b[p] + (r() < 0.5 ? 1 : -1)) & 0xff;
    } else if (b.length) {
      const p = pos(b.length);
      const n = Math.min(b.length - p, 1 + pick(8));
      b.fill(r() < 0.5 ? 0 : 0xff, p, p + n);
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const HOSTILE_VALUES: readonly unknown[] = [
  null, true, false, 0, -1, 1.5, 2 ** 31, -(2 ** 53), 1e308, '', 'x\ny\u001b[31m', '<img src=x onerror=alert(1)>',
  [], [1, 2, 3], [[[]]], {}, { a: 1 }, 'A'.repeat(2000), [2 ** 31, 2 ** 31],
];

/** A JSON document with one to three values replaced, keys renamed or deleted, or containers swapped. */
export function mutateJson(src: unknown, r: () => number): unknown {
  const doc = structuredClone(src);
  const count = 1 + Math.floor(r() * 3);
  let out: unknown = doc;
  for (let m = 0; m < count; m++) {
    // Walk to a random container, then damage one of its entries.
    const path: (string | number)[] = [];
    let node: unknown = out;
    while (node && typeof node === 'object' && r() < 0.7) {
      const keys = Object.keys(node);
      if (!keys.length) break;
      const k = keys[Math.floor(r() * keys.length)];
      const next = (node as Record<string, unknown>)[k];
      if (!next || typeof next !== 'object') break;
      path.push(Array.isArray(node) ? Number(k) : k);
      node = next;
    }
    const v = structuredClone(HOSTILE_VALUES[Math.floor(r() * HOSTILE_VALUES.length)]);
    if (!node || typeof node !== 'object') { out = v; continue; }
    const obj = node as Record<string, unknown>;
    const keys = Object.keys(obj);
    const op = Math.floor(r() * 4);
    if (op === 0 || !keys.length) obj[keys.length && r() < 0.5 ? keys[0] : `k${Math.floor(r() * 3)}\n`] = v;
    else if (op === 1) obj[keys[Math.floor(r() * keys.length)]] = v;
    else if (op === 2) delete obj[keys[Math.floor(r() * keys.length)]];
    else obj[keys[Math.floor(r() * keys.length)]] = [structuredClone(obj[keys[0]])];
  }
  return out;
}
