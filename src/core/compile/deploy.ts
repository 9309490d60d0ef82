// Python a user runs on the board: VART (any Vitis AI image) and pynq_dpu (PYNQ on KV260/ZCU104), filled in
// with this model's DPU subgraph tensors, shapes and fix points.
import type { CompileResult, Port, Subgraph } from './partition';

function py(s: string): string {
  return JSON.stringify(s);
}

function shapeTuple(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

function portLines(ports: readonly Port[], what: string): string {
  return ports.map((p, i) => `#   ${what}[${i}] ${p.name}  shape ${shapeTuple(p.shape)}  fix_point ${p.fixPoint ?? 'unknown'}`).join('\n');
}

function dpuSubgraphs(r: CompileResult): Subgraph[] {
  return r.subgraphs.filter((s) => s.device === 'DPU');
}

/** VART: deserialize, find the DPU child, run it with int8 buffers scaled by the fix points. */
export function vartPython(r: CompileResult, xmodelFile: string): string {
  const dpu = dpuSubgraphs(r);
  const first = dpu[0];
  const note = dpu.length > 1
    ? `# This model has ${dpu.length} DPU subgraphs; this script runs the first. Run the others the same way,\n# with the CPU subgraphs between them (see the compile report) computed in Python.\n`
    : '';
  return `#!/usr/bin/env python3
# Run ${r.graph.name || 'the model'} on ${r.target.name} with VART (Vitis AI runtime).
# ${r.summary}
${note}${first ? `# DPU subgraph ${first.name}:\n${portLines(first.inputs, 'input')}\n${portLines(first.outputs, 'output')}\n` : ''}import sys
import numpy as np
import vart
import xir


def dpu_subgraphs(graph):
    root = graph.get_root_subgraph()
    children = root.toposort_child_subgraph()
    return [c for c in children if c.has_attr("device") and c.get_attr("device").upper() == "DPU"]


def main(xmodel=${py(xmodelFile)}):
    graph = xir.Graph.deserialize(xmodel)
    subgraphs = dpu_subgraphs(graph)
    assert len(subgraphs) == ${dpu.length}, f"expected ${dpu.length} DPU subgraph(s), found {len(subgraphs)}"
    runner = vart.Runner.create_runner(subgraphs[0], "run")
    inputs = runner.get_input_tensors()
    outputs = runner.get_output_tensors()
    # real = int8 · 2^-fix_point: inputs are scaled by 2^fix_point before the int8 cast, outputs by 2^-fix_point.
    in_scales = [2.0 ** t.get_attr("fix_point") for t in inputs]
    out_scales = [2.0 ** -t.get_attr("fix_point") for t in outputs]
    in_bufs = [np.zeros(tuple(t.dims), dtype=np.int8) for t in inputs]
    out_bufs = [np.zeros(tuple(t.dims), dtype=np.int8) for t in outputs]

    # Replace with your preprocessed input (NHWC, float32), shape ${first ? shapeTuple(first.inputs[0]?.shape ?? []) : '()'}.
    x = np.random.rand(*tuple(inputs[0].dims)).astype(np.float32)
    in_bufs[0][...] = np.clip(np.round(x * in_scales[0]), -128, 127).astype(np.int8)

    job = runner.execute_async(in_bufs, out_bufs)
    runner.wait(job)
    results = [b.astype(np.float32) * s for b, s in zip(out_bufs, out_scales)]
    for t, y in zip(outputs, results):
        print(t.name, y.shape, float(y.min()), float(y.max()))
    return results


if __name__ == "__main__":
    main(*sys.argv[1:])
`;
}

/** pynq_dpu: load the bitstream overlay and the model, then the same runner API. */
export function pynqPython(r: CompileResult, xmodelFile: string): string {
  const first = dpuSubgraphs(r)[0];
  return `# Run ${r.graph.name || 'the model'} with pynq_dpu (PYNQ image on KV260 / ZCU104, DPU ${r.target.name}).
# ${r.summary}
${first ? `${portLines(first.inputs, 'input')}\n${portLines(first.outputs, 'output')}\n` : ''}import numpy as np
from pynq_dpu import DpuOverlay

overlay = DpuOverlay("dpu.bit")
overlay.load_model(${py(xmodelFile)})
dpu = overlay.runner

inputs = dpu.get_input_tensors()
outputs = dpu.get_output_tensors()
in_scale = 2.0 ** inputs[0].get_attr("fix_point")
out_scales = [2.0 ** -t.get_attr("fix_point") for t in outputs]

in_buf = [np.empty(tuple(inputs[0].dims), dtype=np.int8, order="C")]
out_buf = [np.empty(tuple(t.dims), dtype=np.int8, order="C") for t in outputs]

# Replace with your preprocessed image (NHWC float32)${first?.inputs[0] ? `, shape ${shapeTuple(first.inputs[0].shape)}` : ''}.
x = np.random.rand(*tuple(inputs[0].dims)).astype(np.float32)
in_buf[0][...] = np.clip(np.round(x * in_scale), -128, 127).astype(np.int8)

job_id = dpu.execute_async(in_buf, out_buf)
dpu.wait(job_id)
results = [b.astype(np.float32) * s for b, s in zip(out_buf, out_scales)]
for t, y in zip(outputs, results):
    print(t.name, y.shape)
`;
}
