// Python a user runs on the board: VART (any Vitis AI image) and pynq_dpu (PYNQ on KV260/ZCU104), filled in
// with this model's partition: every DPU subgraph in topological order, NumPy for each CPU step between
// them, and the tensors crossing subgraph boundaries with their shapes and fix points as Python constants.
import type { PreprocessSpec } from '../data/preprocess';
import { cpuStepCode, NUMPY_HELPERS } from './cpu-numpy';
import { ioBlock } from './deploy-io';
import { STANDIN_MODULE } from './standin-py';
import { commentText as comment, pyString as py, shellQuote } from '../text';
import type { Layer } from './layer';
import { isAccelerator, type CompileResult, type PlacedLayer, type Port, type Subgraph } from './partition';

function shapeTuple(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

function portLines(ports: readonly Port[], what: string, indent = ''): string {
  return ports.map((p, i) => `${indent}#   ${what}[${i}] ${comment(p.name)}  shape ${shapeTuple(p.shape)}  fix_point ${p.fixPoint ?? 'unknown'}`).join('\n');
}

/** The file name without folder and extension; control characters (a name can hold any) become '_'. */
function stemOf(xmodelFile: string): string {
  // eslint-disable-next-line no-control-regex
  return xmodelFile.replace(/^.*[\\/]/, '').replace(/\.xmodel$/i, '').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '_') || 'model';
}

/** What to run to get a board-ready .xmodel: the arch.json with this target's fingerprint and vai_c_xir. */
export interface BoardCompile {
  /** Contents of arch.json, or undefined when the target has no known fingerprint. */
  readonly archJson?: string;
  readonly command: string;
  /** Where vai_c_xir writes the board .xmodel. */
  readonly output: string;
}

export function boardCompile(r: CompileResult, xmodelFile: string): BoardCompile {
  const stem = stemOf(xmodelFile);
  const fp = r.target.fingerprint;
  return {
    archJson: fp === undefined ? undefined : `{"fingerprint": "0x${fp.toString(16)}"}`,
    // vai_c_xir compiles the quantizer's xmodel (vai_q_pytorch / vai_q_tensorflow2 write <name>_int.xmodel).
    // The user pastes this into a shell: a file named `m;touch PWNED;$(id).onnx` must stay one word.
    command: `vai_c_xir -x ${shellQuote(`${stem}_int.xmodel`)} -a arch.json -o board -n ${shellQuote(stem)}`,
    output: `board/${stem}.xmodel`,
  };
}

/** The limitation of the exported file and how to get one the DPU runs, as comment lines. */
function limitationLines(r: CompileResult, xmodelFile: string): string {
  const b = boardCompile(r, xmodelFile);
  return [
    '#',
    `# LIMITATION: the ${comment(xmodelFile)} Fixpoint Studio exports is for inspection (Netron, XIR tools): it has`,
    '# the partition, fix points and int8 weights but NO DPU machine code, so VART cannot run it. For the board,',
    `# compile the quantized model with vai_c_xir and the arch.json of your DPU (${comment(r.target.name)}):`,
    b.archJson ? `#   echo '${b.archJson}' > arch.json` : '#   (this target has no known fingerprint: use the arch.json shipped with your DPU build)',
    `#   ${comment(b.command)}`,
    `# and run this script on ${comment(b.output)}. Its partition should match the one below; the script checks the count.`,
    '#',
  ].join('\n');
}

/** How an op reads in a stub's comment: the op, and what the pattern is when it is a known one. */
function opLabel(l: Layer): string {
  const a = l.activation?.type;
  if (a === 'silu') return 'Sigmoid·Mul (SiLU)';
  if (l.kind === 'activation' && a === 'sigmoid') return 'Sigmoid';
  if (l.kind === 'output') return 'fix2float (graph output)';
  return l.op;
}

function tensorOf(r: CompileResult, id: number): { name: string; shape: readonly number[] } {
  const l = r.graph.layers[id];
  return { name: l.tensor, shape: l.shape };
}

function cpuOpLine(r: CompileResult, p: PlacedLayer): string {
  const l = p.layer;
  const ins = l.inputs.map((id) => tensorOf(r, id)).map((t) => `${t.name} ${shapeTuple(t.shape)}`).join(', ');
  const reason = p.reason ? ` — ${p.reason}` : '';
  return comment(`${opLabel(l)} "${l.name}" on ${ins || '(no input)'} -> ${l.tensor} ${shapeTuple(l.shape)}${reason}`);
}

/** Every tensor that crosses a subgraph boundary, once. */
function boundaryTensors(r: CompileResult): Port[] {
  const seen = new Map<string, Port>();
  for (const s of r.subgraphs) for (const p of [...s.inputs, ...s.outputs]) if (!seen.has(p.name)) seen.set(p.name, p);
  return [...seen.values()];
}

function tensorsBlock(r: CompileResult): string {
  const rows = boundaryTensors(r).map((p) => {
    const fp = p.fixPoint;
    return `    ${py(p.name)}: {"shape": ${shapeTuple(p.shape)}, "fix_point": ${fp ?? 'None'}, "scale": ${fp === undefined ? 'None' : `2.0 ** ${fp}`}},`;
  });
  return `# Every tensor crossing a subgraph boundary: shape (NHWC, as the DPU sees it), fix_point, and
# scale = 2**fix_point (real = int8 / scale). fix_point None: ${r.graph.quantized ? 'not known to this compile' : 'the model was not quantized yet'};
# the board xmodel's own fix_point is used then.
TENSORS = {
${rows.join('\n')}
}
GRAPH_INPUTS = [${r.subgraphs.filter((s) => s.device === 'USER').flatMap((s) => s.outputs).map((p) => py(p.name)).join(', ')}]
GRAPH_OUTPUTS = [${r.layers.filter((p) => p.layer.graphOutput).map((p) => py(p.layer.tensor)).join(', ')}]`;
}

function dpuBlock(dpu: readonly Subgraph[]): string {
  const rows = dpu.map((s, i) => `    # DPU subgraph ${i}: ${comment(s.name)}
${portLines(s.inputs, 'input', '    ')}
${portLines(s.outputs, 'output', '    ')}
    {"name": ${py(s.name)}, "inputs": [${s.inputs.map((p) => py(p.name)).join(', ')}], "outputs": [${s.outputs.map((p) => py(p.name)).join(', ')}]},`);
  return `# The DPU subgraphs in topological order; the board xmodel from vai_c_xir must have the same ones.
DPU_SUBGRAPHS = [
${rows.join('\n')}
]`;
}

/** A CPU subgraph that only converts a DPU output to float: the int8 → float step already did that. */
function onlyFix2Float(r: CompileResult, s: Subgraph): boolean {
  return s.layers.every((i) => r.layers[i].layer.kind === 'output');
}

function cpuFunction(r: CompileResult, s: Subgraph, index: number, fn: string): string {
  const ops = s.layers.map((i) => `    #   ${cpuOpLine(r, r.layers[i])}`).join('\n');
  const reads = s.inputs.map((p) => `    #   ${comment(p.name)} ${shapeTuple(p.shape)}`).join('\n') || '    #   (nothing)';
  const writes = s.outputs.map((p) => `    #   ${comment(p.name)} ${shapeTuple(p.shape)}`).join('\n') || '    #   (nothing)';
  const head = `def ${fn}(values):
    # CPU subgraph #${index} ${comment(s.name)}: runs on the ARM cores, between DPU subgraphs.
    # Ops, in order:
${ops}
    # Reads (float32, from values):
${reads}
    # Writes (float32, into values):
${writes}`;
  const code = cpuStepCode(r, s);
  const note = code.stubs.length
    ? `    # ${code.stubs.length} op(s) have no NumPy generator and raise where they run: ${comment(code.stubs.join(', '))}.`
    : '    # Generated NumPy, one statement per op (fix: the fix point the quantizer gave the tensor).';
  return `${head}
${note}
${code.lines.map((x) => `    ${x}`).join('\n')}
`;
}

/** Ops of every CPU step left as stubs (no NumPy generator), for the panel. */
export function cpuStubs(r: CompileResult): string[] {
  return r.subgraphs.filter((s) => s.device === 'CPU').flatMap((s) => cpuStepCode(r, s).stubs);
}

/** CPU steps, then the step list: DPU subgraphs and CPU functions in the partition's topological order. */
function stepsBlock(r: CompileResult): string {
  const fns: string[] = [];
  const steps: string[] = [];
  let dpu = 0;
  r.subgraphs.forEach((s, i) => {
    if (isAccelerator(s.device)) steps.push(`    ("dpu", ${dpu++}),  # ${comment(s.name)}`);
    else if (s.device === 'CPU' && onlyFix2Float(r, s)) {
      // Nothing to write: to_float already turned the DPU's int8 output into real values.
      steps.push(`    # CPU subgraph #${i} ${comment(s.name)}: fix2float of ${s.inputs.map((p) => comment(p.name)).join(', ')}, done by to_float`);
    } else if (s.device === 'CPU') {
      const fn = `cpu_step_${i}`;
      fns.push(cpuFunction(r, s, i, fn));
      steps.push(`    ("cpu", ${fn}),`);
    }
  });
  return `${fns.join('\n\n')}${fns.length ? '\n\n' : ''}# Every step in topological order: ("dpu", index into DPU_SUBGRAPHS) or ("cpu", function).
STEPS = [
${steps.join('\n')}
]`;
}

const HELPERS = `${NUMPY_HELPERS}


SUFFIXES = re.compile(r"(_fix|_upload_\\d+|_download_\\d+|_inserted_fix_\\d+)+$")


def match(runner_tensors, names):
    """Pairs a runner's tensors with this compile's tensor names: by name (vai_c_xir keeps the source name,
    sometimes with a suffix such as _fix), else by shape, else by position."""
    left = list(runner_tensors)
    out = []
    for n in names:
        if not left:
            raise SystemExit(f"{n}: the board subgraph has fewer tensors than this compile ({len(names)}): recompile with the same settings")
        t = (next((t for t in left if t.name == n), None)
             or next((t for t in left if SUFFIXES.sub("", t.name) == n), None)
             or next((t for t in left if tuple(t.dims) == tuple(TENSORS[n]["shape"])), None)
             or left[0])
        left.remove(t)
        out.append(t)
    return out


def scale_of(name, tensor):
    """2**fix_point of one tensor: this compile's value; the board xmodel's when it differs (its code uses that)."""
    fp = TENSORS[name]["fix_point"]
    board = tensor.get_attr("fix_point") if tensor.has_attr("fix_point") else None
    if fp is None:
        fp = board
    elif board is not None and board != fp:
        print(f"warning: {name}: fix_point {board} in the board xmodel, {fp} in this compile; using {board}", file=sys.stderr)
        fp = board
    if fp is None:
        raise ValueError(f"{name}: no fix_point (quantize the model first)")
    return TENSORS[name]["scale"] if fp == TENSORS[name]["fix_point"] else 2.0 ** fp


def to_int8(x, scale):
    """DPU input: real * 2^fix_point, rounded half up (DPU_ROUND, as XIR's fix) and saturated to int8."""
    return np.clip(np.floor(x * scale + 0.5), -128, 127).astype(np.int8)


def to_float(q, scale):
    """DPU output: int8 * 2^-fix_point."""
    return q.astype(np.float32) / scale


def run_dpu(runner, subgraph, values):
    ins = match(runner.get_input_tensors(), subgraph["inputs"])
    outs = match(runner.get_output_tensors(), subgraph["outputs"])
    in_bufs = [to_int8(values[n], scale_of(n, t)).reshape(tuple(t.dims)) for n, t in zip(subgraph["inputs"], ins)]
    out_bufs = [np.empty(tuple(t.dims), dtype=np.int8, order="C") for t in outs]
    job = runner.execute_async(in_bufs, out_bufs)
    runner.wait(job)
    for n, t, b in zip(subgraph["outputs"], outs, out_bufs):
        values[n] = to_float(b, scale_of(n, t))


def dpu_subgraphs(graph):
    root = graph.get_root_subgraph()
    children = root.toposort_child_subgraph()
    return [c for c in children if c.has_attr("device") and c.get_attr("device").upper() == "DPU"]


def check_board_xmodel(subgraphs):
    if len(subgraphs) != len(DPU_SUBGRAPHS):
        raise SystemExit(f"expected {len(DPU_SUBGRAPHS)} DPU subgraph(s), found {len(subgraphs)}: compile with the same conversions and arch.json")
    if any(not s.has_attr("mc_code") for s in subgraphs):
        raise SystemExit("this xmodel has no DPU machine code (the inspection file?): compile it with vai_c_xir, see the top of this script")


def run(runners, values):
    for kind, step in STEPS:
        if kind == "dpu":
            run_dpu(runners[step], DPU_SUBGRAPHS[step], values)
        else:
            step(values)
    return {n: values[n] for n in GRAPH_OUTPUTS}`;

function body(r: CompileResult, pre: PreprocessSpec | undefined): string {
  return `${tensorsBlock(r)}

${dpuBlock(r.subgraphs.filter((s) => isAccelerator(s.device)))}

${HELPERS}


${ioBlock(r, pre)}


${stepsBlock(r)}`;
}

// Without VART (a PC, CI) the NumPy stand-in runs the DPU subgraphs from <model>_dpu.npz, in int8 as the DPU does.
const IMPORT_RUNTIME = `try:
    import vart
    import xir
except ImportError:
    from ${STANDIN_MODULE.replace(/\.py$/, '')} import vart, xir
    print("vart not found: the DPU subgraphs run in NumPy (${STANDIN_MODULE}; pass <model>_dpu.npz as the model)", file=sys.stderr)`;

function dpuCount(r: CompileResult): number {
  return r.subgraphs.filter((s) => isAccelerator(s.device)).length;
}

/** VART: deserialize, one runner per DPU subgraph, run the steps with int8 buffers scaled by the fix points. */
export function vartPython(r: CompileResult, xmodelFile: string, pre?: PreprocessSpec): string {
  return `#!/usr/bin/env python3
# Run ${comment(r.graph.name || 'the model')} on ${comment(r.target.name)} with VART (Vitis AI runtime).
# ${comment(r.summary)}: the ${dpuCount(r)} DPU subgraph(s) run in order, the CPU steps between them are NumPy functions.
${limitationLines(r, xmodelFile)}
import json
import re
import sys
import numpy as np
${IMPORT_RUNTIME}

${body(r, pre)}


def main(image, xmodel=${py(xmodelFile)}):
    """python3 this_script.py IMAGE_OR_NPY [BOARD_XMODEL]"""
    graph = xir.Graph.deserialize(xmodel)
    subgraphs = dpu_subgraphs(graph)
    check_board_xmodel(subgraphs)
    runners = [vart.Runner.create_runner(s, "run") for s in subgraphs]
    # Scales are per tensor: TENSORS[name]["scale"] = 2**fix_point, checked against get_attr("fix_point").
    feeds, placement = load_input(image)
    results = run(runners, feeds)
    report(results, placement)
    return results


if __name__ == "__main__":
    main(*sys.argv[1:])
`;
}

/** pynq_dpu: the overlay loads the bitstream and the model; its own runner covers only the first DPU subgraph. */
export function pynqPython(r: CompileResult, xmodelFile: string, pre?: PreprocessSpec): string {
  return `# Run ${comment(r.graph.name || 'the model')} with pynq_dpu (PYNQ image on KV260 / ZCU104, DPU ${comment(r.target.name)}).
# ${comment(r.summary)}: the ${dpuCount(r)} DPU subgraph(s) run in order, the CPU steps between them are NumPy functions.
${limitationLines(r, xmodelFile)}
import json
import re
import sys
import numpy as np
import vart
import xir
from pynq_dpu import DpuOverlay

${body(r, pre)}


overlay = DpuOverlay("dpu.bit")
overlay.load_model(${py(xmodelFile)})
# overlay.runner runs only the first DPU subgraph: one runner per DPU subgraph instead.
subgraphs = dpu_subgraphs(xir.Graph.deserialize(${py(xmodelFile)}))
check_board_xmodel(subgraphs)
runners = [vart.Runner.create_runner(s, "run") for s in subgraphs]
feeds, placement = load_input(sys.argv[1])  # an image or a preprocessed .npy
results = run(runners, feeds)
report(results, placement)
`;
}
