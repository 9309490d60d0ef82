// Fusion, placement and partitioning into device subgraphs.
//
// Placement: each layer goes to the accelerator when the target supports it (after fusing nonlinearities
// and applying the what-if conversions), to the CPU otherwise, inputs to USER.
// Partitioning: a subgraph must be convex (no path leaves it and comes back), or its runner would wait on
// itself. Layers get a level = the largest number of device changes on any path from an input; DPU layers of
// one level, and connected CPU layers of one level, form a subgraph, which is convex by construction. Adjacent subgraphs of
// the same device are then merged whenever no other path joins them (a merge along such a path would put
// a CPU region inside a DPU subgraph's cycle).
import { sumCosts, ZERO_COST, type LayerCost } from './cost';
import type { LayerGraph } from './builder';
import { convertedActivation, NO_CONVERSIONS, type Conversions, type Layer } from './layer';
import type { Target } from './targets/target';

/** USER (graph inputs), CPU, or the accelerator's label (its target's `device`, 'DPU' for the DPUCZDX8G). */
export type Device = 'USER' | 'CPU' | 'DPU' | (string & {});

/** Whether a device label names an accelerator (anything but USER and CPU). */
export function isAccelerator(d: Device): boolean {
  return d !== 'USER' && d !== 'CPU';
}

export interface PlacedLayer {
  /** The layer as it runs: a fused nonlinearity included. */
  readonly layer: Layer;
  /** Ids of the source layers it stands for (itself and a fused activation). */
  readonly members: readonly number[];
  readonly device: Device;
  readonly reason?: string;
  readonly fix?: string;
  readonly cost: LayerCost;
}

export interface Port {
  readonly name: string;
  readonly shape: readonly number[];
  readonly fixPoint?: number;
}

export interface Subgraph {
  readonly name: string;
  readonly device: Device;
  /** Indexes into CompileResult.layers, in topological order. */
  readonly layers: readonly number[];
  /** Source op names, in source order. */
  readonly ops: readonly string[];
  readonly inputs: readonly Port[];
  readonly outputs: readonly Port[];
  readonly cost: LayerCost;
}

export interface CpuOp {
  readonly name: string;
  readonly op: string;
  readonly reason: string;
  readonly fix?: string;
}

export interface CompileResult {
  readonly target: Target;
  readonly conversions: Conversions;
  readonly graph: LayerGraph;
  readonly layers: readonly PlacedLayer[];
  /** Topological order. */
  readonly subgraphs: readonly Subgraph[];
  readonly deviceSubgraphNumber: number;
  /** Subgraphs on the accelerator (named after the DPU, whatever the target). */
  readonly dpuSubgraphNumber: number;
  /** The real compiler's summary line, with the target's device label. */
  readonly summary: string;
  readonly cpuOps: readonly CpuOp[];
  readonly totals: LayerCost;
  /** Source op name → device. */
  readonly opDevice: ReadonlyMap<string, Device>;
}

/** Kinds that compute nothing: left alone between CPU layers they would make a DPU subgraph of their own. */
const PASSIVE = new Set(['reshape', 'concat', 'pad']);

export function partition(g: LayerGraph, target: Target, conversions: Conversions = NO_CONVERSIONS): CompileResult {
  const L = g.layers;
  const n = L.length;
  const acc = target.device;
  if (acc === 'USER' || acc === 'CPU' || !acc) throw new Error(`target ${target.name}: device label "${acc}" is reserved; name the accelerator (e.g. "DPU")`);
  const consumers: number[][] = L.map(() => []);
  for (const l of L) for (const i of l.inputs) consumers[i].push(l.id);

  // 1. Fuse a nonlinearity into its producer when the producer feeds nothing else.
  const rep = new Int32Array(n).map((_, i) => i);
  const fusedAct = new Map<number, number>();
  for (const a of L) {
    if (a.kind !== 'activation' || a.inputs.length !== 1) continue;
    const p = L[a.inputs[0]];
    if (consumers[p.id].length !== 1 || p.activation || p.graphOutput || fusedAct.has(p.id)) continue;
    const act = convertedActivation(a.activation, conversions);
    if (act && target.fuses(p, act)) {
      fusedAct.set(p.id, a.id);
      rep[a.id] = p.id;
    }
  }
  const eff = new Map<number, Layer>();
  for (const l of L) {
    if (rep[l.id] !== l.id) continue;
    const a = fusedAct.has(l.id) ? L[fusedAct.get(l.id)!] : undefined;
    eff.set(l.id, a ? {
      ...l, activation: a.activation, sourceOps: [...l.sourceOps, ...a.sourceOps], tensor: a.tensor,
      fixPoint: a.fixPoint ?? l.fixPoint, graphOutput: a.graphOutput,
    } : l);
  }
  const ids = [...eff.keys()];
  const preds = new Map<number, number[]>();
  const succs = new Map<number, number[]>();
  for (const id of ids) { preds.set(id, []); succs.set(id, []); }
  for (const id of ids) {
    const l = L[id];
    const srcIns = fusedAct.has(id) ? l.inputs : l.inputs;
    const seen = new Set<number>();
    for (const i of srcIns) {
      const p = rep[i];
      if (p !== id && !seen.has(p)) {
        seen.add(p);
        preds.get(id)!.push(p);
        succs.get(p)!.push(id);
      }
    }
  }
  const order = topo(ids, preds, succs);

  // 2. Placement.
  const device = new Map<number, Device>();
  const why = new Map<number, { reason: string; fix?: string }>();
  for (const id of order) {
    const l = eff.get(id)!;
    if (l.kind === 'input') { device.set(id, 'USER'); continue; }
    const s = target.supports(l, conversions);
    if (s.ok) device.set(id, acc);
    else {
      device.set(id, 'CPU');
      why.set(id, { reason: s.reason, fix: s.fix });
    }
  }
  // A connected region of accelerator layers (so only CPU and USER layers around it) that computes nothing
  // (reshapes, concats, pads) stays with its CPU neighbours: as a subgraph of its own it would only add an
  // upload/download round trip (RetinaFace: 9 head reshapes and 3 concats between CPU transposes and outputs).
  const seen = new Set<number>();
  for (const id of order) {
    if (seen.has(id) || device.get(id) !== acc) continue;
    const region: number[] = [];
    let passive = true;
    for (const stack = [id]; stack.length;) {
      const x = stack.pop()!;
      if (seen.has(x)) continue;
      seen.add(x);
      region.push(x);
      if (!PASSIVE.has(eff.get(x)!.kind)) passive = false;
      for (const y of [...preds.get(x)!, ...succs.get(x)!]) if (device.get(y) === acc) stack.push(y);
    }
    if (!passive) continue;
    for (const x of region) {
      device.set(x, 'CPU');
      why.set(x, { reason: `${eff.get(x)!.op}: no ${acc} computation next to it, so it stays with its CPU neighbours` });
    }
  }

  // 3. Levels and connected groups.
  const level = new Map<number, number>();
  for (const id of order) {
    let lv = 0;
    for (const p of preds.get(id)!) lv = Math.max(lv, level.get(p)! + (device.get(p) === device.get(id) ? 0 : 1));
    level.set(id, lv);
  }
  const parent = new Map<number, number>(ids.map((i) => [i, i]));
  const find = (x: number): number => {
    while (parent.get(x) !== x) { const p = parent.get(parent.get(x)!)!; parent.set(x, p); x = p; }
    return x;
  };
  for (const id of ids)
    for (const p of preds.get(id)!)
      if (device.get(p) === device.get(id) && level.get(p) === level.get(id) && device.get(id) !== 'USER')
        parent.set(find(id), find(p));
  // DPU layers of one level form one subgraph even when not connected (fewest runner calls; convex because
  // any path between them would cross another device and raise the level). CPU layers stay per component,
  // as vai_c_xir gives each graph output its own fix2float subgraph.
  const dpuOfLevel = new Map<number, number>();
  for (const id of order) {
    if (device.get(id) !== acc) continue;
    const lv = level.get(id)!;
    const first = dpuOfLevel.get(lv);
    if (first === undefined) dpuOfLevel.set(lv, id);
    else parent.set(find(id), find(first));
  }

  // 4. Merge adjacent same-device groups when no other path joins them.
  mergeGroups(ids, preds, succs, device, find, parent);

  // 5. Subgraphs in topological order of their first layer.
  const groupLayers = new Map<number, number[]>();
  for (const id of order) {
    const r = find(id);
    if (!groupLayers.has(r)) groupLayers.set(r, []);
    groupLayers.get(r)!.push(id);
  }
  const gOrder = topoGroups([...groupLayers.keys()], ids, preds, find, order);

  const index = new Map<number, number>();
  const layers: PlacedLayer[] = [];
  for (const id of order) {
    const l = eff.get(id)!;
    const d = device.get(id)!;
    const w = why.get(id);
    index.set(id, layers.length);
    layers.push({
      layer: l, members: fusedAct.has(id) ? [id, fusedAct.get(id)!] : [id], device: d,
      reason: w?.reason, fix: w?.fix, cost: d === acc ? target.cost(l) : ZERO_COST,
    });
  }

  const sourceIndex = new Map(g.sourceOps.map((o, i) => [o.name, i]));
  const opDevice = new Map<string, Device>();
  const subgraphs: Subgraph[] = gOrder.map((r) => {
    const members = groupLayers.get(r)!;
    const set = new Set(members);
    const d = device.get(members[0])!;
    const ops = members.flatMap((m) => eff.get(m)!.sourceOps);
    ops.sort((a, b) => (sourceIndex.get(a) ?? 0) - (sourceIndex.get(b) ?? 0));
    for (const o of ops) opDevice.set(o, d);
    const port = (id: number): Port => {
      const l = eff.get(id)!;
      return { name: l.tensor, shape: l.shape, fixPoint: g.quantized ? l.fixPoint : undefined };
    };
    const inputs: Port[] = [];
    const seenIn = new Set<number>();
    const outputs: Port[] = [];
    for (const m of members) {
      for (const p of preds.get(m)!) if (!set.has(p) && !seenIn.has(p)) { seenIn.add(p); inputs.push(port(p)); }
      const l = eff.get(m)!;
      if (d === 'USER' || l.graphOutput || succs.get(m)!.some((s) => !set.has(s))) outputs.push(port(m));
    }
    return {
      name: `subgraph_${eff.get(members[0])!.name}`, device: d, layers: members.map((m) => index.get(m)!),
      ops, inputs, outputs, cost: d === acc ? sumCosts(members.map((m) => layers[index.get(m)!].cost)) : ZERO_COST,
    };
  });

  const dpu = subgraphs.filter((s) => s.device === acc).length;
  const cpuOps: CpuOp[] = layers.filter((p) => p.device === 'CPU').map((p) => ({
    name: p.layer.name, op: p.layer.op, reason: p.reason ?? '', ...(p.fix ? { fix: p.fix } : {}),
  }));
  return {
    target, conversions, graph: g, layers, subgraphs,
    deviceSubgraphNumber: subgraphs.length, dpuSubgraphNumber: dpu,
    summary: `Total device subgraph number ${subgraphs.length}, ${acc} subgraph number ${dpu}`,
    cpuOps, totals: sumCosts(subgraphs.map((s) => s.cost)), opDevice,
  };
}

function topo(ids: number[], preds: Map<number, number[]>, succs: Map<number, number[]>): number[] {
  const indeg = new Map(ids.map((i) => [i, preds.get(i)!.length]));
  const queue = ids.filter((i) => indeg.get(i) === 0);
  const out: number[] = [];
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q];
    out.push(i);
    for (const s of succs.get(i)!) {
      const d = indeg.get(s)! - 1;
      indeg.set(s, d);
      if (d === 0) queue.push(s);
    }
  }
  if (out.length !== ids.length) throw new Error('layer graph has a cycle');
  return out;
}

function mergeGroups(
  ids: number[], preds: Map<number, number[]>, succs: Map<number, number[]>, device: Map<number, Device>,
  find: (x: number) => number, parent: Map<number, number>,
): void {
  for (let merged = true; merged;) {
    merged = false;
    // Group-level DAG.
    const gs = new Map<number, Set<number>>();
    for (const id of ids) {
      const a = find(id);
      if (!gs.has(a)) gs.set(a, new Set());
      for (const s of succs.get(id)!) { const b = find(s); if (b !== a) gs.get(a)!.add(b); }
    }
    for (const [a, outs] of gs) {
      const da = device.get(a)!;
      if (da === 'USER') continue;
      for (const b of outs) {
        if (device.get(b) !== da) continue;
        // Another path a → x → … → b (x ≠ b) would become a cycle through the merged group.
        const seen = new Set<number>();
        const stack = [...outs].filter((x) => x !== b);
        let other = false;
        while (stack.length && !other) {
          const x = stack.pop()!;
          if (x === b) { other = true; break; }
          if (seen.has(x)) continue;
          seen.add(x);
          for (const y of gs.get(x) ?? []) stack.push(y);
        }
        if (!other) {
          parent.set(find(b), find(a));
          merged = true;
          break;
        }
      }
      if (merged) break;
    }
  }
}

function topoGroups(groups: number[], ids: number[], preds: Map<number, number[]>, find: (x: number) => number,
  order: number[]): number[] {
  const gp = new Map<number, Set<number>>(groups.map((g) => [g, new Set()]));
  for (const id of ids) for (const p of preds.get(id)!) if (find(p) !== find(id)) gp.get(find(id))!.add(find(p));
  const firstPos = new Map<number, number>();
  order.forEach((id, i) => { const g = find(id); if (!firstPos.has(g)) firstPos.set(g, i); });
  // Kahn's algorithm, always taking the ready group that starts earliest in layer order (a min-heap on
  // firstPos): the order a scan of all remaining groups per step gives, in O(G log G) instead of O(G²).
  const indeg = new Map<number, number>();
  const next = new Map<number, number[]>(groups.map((g) => [g, []]));
  for (const g of groups) {
    indeg.set(g, gp.get(g)!.size);
    for (const p of gp.get(g)!) next.get(p)!.push(g);
  }
  const heap: number[] = [];
  const before = (a: number, b: number) => firstPos.get(heap[a])! < firstPos.get(heap[b])!;
  const swap = (a: number, b: number) => { const t = heap[a]; heap[a] = heap[b]; heap[b] = t; };
  const push = (g: number) => {
    heap.push(g);
    for (let i = heap.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (!before(i, up)) break;
      swap(i, up);
      i = up;
    }
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(l, m)) m = l;
        if (r < heap.length && before(r, m)) m = r;
        if (m === i) break;
        swap(i, m);
        i = m;
      }
    }
    return top;
  };
  for (const g of groups) if (indeg.get(g) === 0) push(g);
  const out: number[] = [];
  while (heap.length) {
    const g = pop();
    out.push(g);
    for (const s of next.get(g)!) {
      const d = indeg.get(s)! - 1;
      indeg.set(s, d);
      if (d === 0) push(s);
    }
  }
  if (out.length !== groups.length) throw new Error('subgraphs form a cycle');
  return out;
}
