// Golden files for checking a board run layer by layer. VART's DPU runner in debug mode
// (XLNX_ENABLE_DEBUG_MODE=1 XLNX_GOLDEN_DIR=<dir>, vart/dpu-runner/src/dpu_runner_base_imp.cpp) downloads
// each output feature map of a DPU subgraph and compares its md5 with `<dir>/<layer_name(tensor)>.bin`,
// where layer_name() drops XIR's "(…)" affixes (xir::remove_xfix) and turns every character outside
// [0-9A-Za-z_] into '_'. The bytes are the raw int8 map in the DPU's own layout (NHWC for 4-D maps).
import { md5 } from './md5';
import type { SimRun } from './types';

/** VART's file stem for an XIR tensor name. */
export function vartLayerName(tensor: string): string {
  // xir::remove_xfix: the name with every "(prefix)"/"(suffix)" group removed.
  let s = tensor;
  for (let prev = ''; prev !== s;) { prev = s; s = s.replace(/\([^()]*\)/g, ''); }
  return s.replace(/[^0-9A-Za-z_]/g, '_');
}

function toNhwc(q: Int8Array, shape: readonly number[]): Int8Array {
  if (shape.length !== 4) return q;
  const [, C, H, W] = shape;
  const out = new Int8Array(q.length);
  for (let c = 0; c < C; c++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) out[(y * W + x) * C + c] = q[(c * H + y) * W + x];
  return out;
}

/** VART golden files: one `.bin` per DPU tensor plus index.json (name, shape, fix_point, md5). */
export function goldenDump(run: SimRun): { path: string; bytes: Uint8Array }[] {
  if (!run.tensors.size) throw new Error('goldenDump: the run kept no tensors (run with keepTensors: true)');
  const files: { path: string; bytes: Uint8Array }[] = [];
  const index: Record<string, unknown>[] = [];
  const taken = new Set<string>();
  for (const t of run.tensors.values()) {
    const stem = vartLayerName(t.layer);
    if (taken.has(stem)) throw new Error(`goldenDump: layers "${t.layer}" and another map to the same file name ${stem}.bin`);
    taken.add(stem);
    const nhwc = toNhwc(t.q, t.shape);
    const bytes = new Uint8Array(nhwc.buffer, nhwc.byteOffset, nhwc.byteLength).slice();
    const shape = t.shape.length === 4 ? [t.shape[0], t.shape[2], t.shape[3], t.shape[1]] : [...t.shape];
    files.push({ path: `${stem}.bin`, bytes });
    index.push({ name: t.layer, tensor: t.name, file: `${stem}.bin`, shape, layout: shape.length === 4 ? 'NHWC' : 'as source', fix_point: t.fixPoint, subgraph: t.subgraph, md5: md5(bytes) });
  }
  files.push({ path: 'index.json', bytes: new TextEncoder().encode(JSON.stringify(index, null, 1) + '\n') });
  return files;
}
