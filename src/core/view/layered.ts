// A layered top-to-bottom layout in plain TypeScript, drawn the way this app's ELK options drew it before
// (longest-path layers from the sources, barycentre crossing reduction, each layer centred), at a small
// fraction of ELK's time: YOLOX-nano took ELK 450–650 ms of a first open in the browser (cold JIT, a
// second worker hop), this takes a few ms in the model worker right after the display graph is built.
// Nothing here recurses, so a 10,000-node chain or a 20,000-wide fan lays out like any other graph.
import type { ElkGraph } from './layout';
import type { Layout, NodeBox } from './types';

/** Gaps, in px, as the ELK options had them (between layers, between boxes) and ELK's defaults for edges. */
export const LAYERED_SPACING = {
  layer: 28,
  node: 24,
  /** Beside a long edge passing through a layer (it reserves a lane so it does not run through boxes). */
  edge: 12,
  padding: 12,
} as const;

/** The most a gap between layers grows for its sloped edges. */
const SLOPE_GAP_MAX = 60;

/** At most this many down-and-up sweeps; the order with the fewest crossings is kept. */
const SWEEPS = 6;

/**
 * `input`: what layoutInput makes (node ids with sizes, one edge per connected pair, and optionally
 * `elk.layered.spacing.nodeNodeBetweenLayers` for the quantized view's taller gaps).
 */
export function layoutLayered(input: ElkGraph): Layout {
  const kids = input.children ?? [];
  const n = kids.length;
  const layerGap = Number(input.layoutOptions?.['elk.layered.spacing.nodeNodeBetweenLayers'] ?? LAYERED_SPACING.layer);
  const index = new Map<string, number>();
  kids.forEach((c, i) => index.set(c.id, i));

  // Edges between known nodes, once per pair, self-loops dropped.
  const src: number[] = [];
  const dst: number[] = [];
  const pairs = new Set<number>();
  for (const e of input.edges ?? []) {
    const s = index.get(e.sources[0]);
    const t = index.get(e.targets[0]);
    if (s === undefined || t === undefined || s === t || pairs.has(s * n + t)) continue;
    pairs.add(s * n + t);
    src.push(s);
    dst.push(t);
  }
  breakCycles(n, src, dst);
  const layer = longestPathLayers(n, src, dst);

  // Long edges get one virtual vertex per layer they cross, so they keep a lane of their own.
  const vLayer = Array.from(layer);
  const up: number[][] = Array.from({ length: n }, () => []);
  const down: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < src.length; i++) {
    let a = src[i];
    const b = dst[i];
    for (let l = layer[a] + 1; l < layer[b]; l++) {
      const d = vLayer.length;
      vLayer.push(l);
      up.push([a]);
      down.push([]);
      down[a].push(d);
      a = d;
    }
    down[a].push(b);
    up[b].push(a);
  }
  const total = vLayer.length;
  let layerCount = 0;
  for (const l of layer) layerCount = Math.max(layerCount, l + 1);
  const layers: number[][] = Array.from({ length: layerCount }, () => []);
  for (let v = 0; v < total; v++) layers[vLayer[v]].push(v);

  const pos = new Float64Array(total);
  const place = () => { for (const l of layers) l.forEach((v, i) => { pos[v] = i; }); };
  place();
  // The display graph lists nodes in the file's (topological) order; one downward pass from there is the start.
  sweep(layers, up, pos, 1);
  let best = layers.map((l) => l.slice());
  let bestCrossings = crossings(layers, down, pos);
  for (let s = 0; s < SWEEPS && bestCrossings > 0; s++) {
    sweep(layers, down, pos, -1);
    sweep(layers, up, pos, 1);
    const c = crossings(layers, down, pos);
    if (c >= bestCrossings) break;
    bestCrossings = c;
    best = layers.map((l) => l.slice());
  }

  // Each layer left to right, then centred on the widest one; inside its layer a box is centred vertically.
  const width = (v: number) => (v < n ? kids[v].width ?? 0 : 0);
  const height = (v: number) => (v < n ? kids[v].height ?? 0 : 0);
  const gap = (a: number, b: number) => (a < n && b < n ? LAYERED_SPACING.node : LAYERED_SPACING.edge);
  const x = new Float64Array(total);
  const spans = best.map((l) => {
    let at = 0;
    l.forEach((v, i) => {
      if (i > 0) at += gap(l[i - 1], v);
      x[v] = at;
      at += width(v);
    });
    return at;
  });
  let widest = 0;
  for (const s of spans) widest = Math.max(widest, s);
  best.forEach((l, li) => {
    const shift = LAYERED_SPACING.padding + (widest - spans[li]) / 2;
    for (const v of l) x[v] += shift;
  });
  const boxes: Record<string, NodeBox> = {};
  let top = LAYERED_SPACING.padding;
  best.forEach((l, li) => {
    let h = 0;
    for (const v of l) h = Math.max(h, height(v));
    // Sloped edges get a taller gap, as ELK's polyline routing gave them (fitted on YOLOX-nano: about
    // 4 px plus an eighth of the widest sideways step), so converging edges and their labels have room.
    let dx = 0;
    for (const u of l) for (const v of down[u]) dx = Math.max(dx, Math.abs(x[u] + width(u) / 2 - x[v] - width(v) / 2));
    for (const v of l) {
      if (v >= n) continue;
      boxes[kids[v].id] = { x: x[v], y: top + (h - height(v)) / 2, width: width(v), height: height(v) };
    }
    if (li < best.length - 1) top += h + layerGap + (dx > 0.5 ? Math.min(SLOPE_GAP_MAX, 4 + dx / 8) : 0);
    else top += h;
  });
  return { boxes, width: widest + 2 * LAYERED_SPACING.padding, height: top + LAYERED_SPACING.padding };
}

/** Reverses the edges that close a cycle (found by a depth-first search from the sources), in place. */
function breakCycles(n: number, src: number[], dst: number[]): void {
  const out = adjacency(n, src);
  const state = new Uint8Array(n); // 0 unseen, 1 on the DFS path, 2 done
  const indeg = new Uint32Array(n);
  for (const t of dst) indeg[t]++;
  const roots = [...Array(n).keys()].sort((a, b) => Number(indeg[a] > 0) - Number(indeg[b] > 0));
  const stack: number[] = [];
  const cursor = new Uint32Array(n);
  for (const r of roots) {
    if (state[r]) continue;
    state[r] = 1;
    stack.push(r);
    while (stack.length) {
      const v = stack[stack.length - 1];
      if (cursor[v] < out[v].length) {
        const e = out[v][cursor[v]++];
        const t = dst[e];
        if (state[t] === 1) { dst[e] = v; src[e] = t; } else if (state[t] === 0) { state[t] = 1; stack.push(t); }
      } else {
        state[v] = 2;
        stack.pop();
      }
    }
  }
}

function adjacency(n: number, from: readonly number[]): number[][] {
  const out: number[][] = Array.from({ length: n }, () => []);
  from.forEach((s, e) => out[s].push(e));
  return out;
}

/** Layer = the longest path from any source (sources on layer 0), in topological order (Kahn). */
function longestPathLayers(n: number, src: readonly number[], dst: readonly number[]): Int32Array {
  const out = adjacency(n, src);
  const indeg = new Uint32Array(n);
  for (const t of dst) indeg[t]++;
  const layer = new Int32Array(n);
  const queue: number[] = [];
  for (let v = 0; v < n; v++) if (indeg[v] === 0) queue.push(v);
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q];
    for (const e of out[v]) {
      const t = dst[e];
      if (layer[t] < layer[v] + 1) layer[t] = layer[v] + 1;
      if (--indeg[t] === 0) queue.push(t);
    }
  }
  return layer;
}

/**
 * One pass of barycentre ordering: each layer (from the top when `dir` is 1, from the bottom when -1)
 * sorted by the mean position of its neighbours in the layer before; a vertex without any keeps its place.
 */
function sweep(layers: number[][], neighbours: readonly number[][], pos: Float64Array, dir: 1 | -1): void {
  const count = layers.length;
  for (let k = 1; k < count; k++) {
    const l = layers[dir === 1 ? k : count - 1 - k];
    const key = new Float64Array(l.length);
    l.forEach((v, i) => {
      const ns = neighbours[v];
      if (!ns.length) { key[i] = i; return; }
      let s = 0;
      for (const u of ns) s += pos[u];
      key[i] = s / ns.length;
    });
    const order = l.map((_, i) => i).sort((a, b) => key[a] - key[b] || a - b);
    const sorted = order.map((i) => l[i]);
    sorted.forEach((v, i) => { pos[v] = i; l[i] = v; });
  }
}

/** Edge crossings between consecutive layers: inversions of the lower ends, counted with a Fenwick tree. */
function crossings(layers: readonly number[][], down: readonly number[][], pos: Float64Array): number {
  let total = 0;
  for (let k = 0; k + 1 < layers.length; k++) {
    const size = layers[k + 1].length;
    const tree = new Uint32Array(size + 1);
    let seen = 0;
    for (const u of layers[k]) {
      const ends = down[u].map((v) => pos[v]).sort((a, b) => a - b);
      for (const p of ends) {
        // Edges already added whose lower end lies right of p cross this one.
        let le = 0;
        for (let i = p + 1; i > 0; i -= i & -i) le += tree[i];
        total += seen - le;
        for (let i = p + 1; i <= size; i += i & -i) tree[i]++;
        seen++;
      }
    }
  }
  return total;
}
