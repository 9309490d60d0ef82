// Simulation worker: holds one prepared simulation (weights packed, buffers planned) of the quantized
// model and runs samples on it. The UI gets plain reports; nothing heavy runs on the main thread.
import * as Comlink from 'comlink';
import type { Conversions } from '../src/core/compile';
import { isInputError } from '../src/core/errors';
import type { FloatTensor, Model } from '../src/core/ir';
import { prepareSimulation, qdqRuntime } from '../src/core/sim/dpu';
import type { SimReport } from '../src/core/sim/report';
import { SampleRunner } from '../src/core/sim/sample';
import { subgraphPhase } from '../src/core/sim/report';
import type { SubgraphProgress } from '../src/core/sim/dpu';
import { argmax } from '../src/core/demo/classify';
import { tensorView, type TensorView } from '../src/core/demo/tensorview';
import type { SimRun } from '../src/core/sim/dpu/types';
import { pickOutput } from '../src/core/demo/readout';
import { decodeYolox, type Detection } from '../src/core/demo/yolox';
import { decodeRetinaFace, findRetinaFaceOutputs } from '../src/core/demo/retinaface';
import { feedsForPorts, quantizedSource } from '../src/core/sim/source';
import { resolveTarget, type TargetChoice } from './compile';
import { workerOrtOptions } from './ort-env';
import { setKernelHelperWorker } from '../src/core/sim/dpu/kernel-threads';

// The DPU kernels' helper threads (used where the page is cross-origin isolated).
if (typeof Worker === 'function') {
  setKernelHelperWorker(() => new Worker(new URL('./dpu-kernels.worker.ts', import.meta.url), { type: 'module', name: 'dpu-kernels' }));
}

export interface SimPrepared {
  readonly target: string;
  readonly inputs: readonly { name: string; shape: readonly number[]; fixPoint?: number }[];
  readonly outputs: readonly { name: string; shape: readonly number[]; fixPoint?: number }[];
  readonly subgraphs: number;
  readonly dpuSubgraphs: number;
  readonly hasFloat: boolean;
  /** wasm bytes of the DPU feature maps as planned (shared by lifetime) and one buffer per tensor. */
  readonly featureMapBytes: { readonly planned: number; readonly unshared: number };
  /** Threads the DPU kernels split big layers over. */
  readonly kernelThreads: number;
  readonly ms: number;
}

/** YOLOX or RetinaFace boxes of one run in model-input pixels, every score ≥ 0.05: the panel's slider filters them. */
export interface SimDetections {
  readonly kind: 'yolox' | 'retinaface';
  readonly inputH: number;
  readonly inputW: number;
  readonly float: readonly Detection[];
  readonly int8: readonly Detection[];
}

/**
 * Decoded only when the outputs have RetinaFace's three [1, A, 4|2|10] or YOLOX's [1, A, 5 + C] form with
 * the anchor count for this input (the decoders check it): the shipped samples pick their task this way.
 */
function detections(feeds: Record<string, FloatTensor>, outputs: Record<string, FloatTensor>, float: Readonly<Record<string, FloatTensor>>): SimDetections | undefined {
  const input = Object.values(feeds)[0];
  if (!input || input.shape.length !== 4) return undefined;
  const chFirst = input.shape[1] === 1 || input.shape[1] === 3;
  const [inputH, inputW] = chFirst ? [input.shape[2], input.shape[3]] : [input.shape[1], input.shape[2]];
  const o = { inputH, inputW, scoreThreshold: 0.05 };
  try {
    const face = findRetinaFaceOutputs(outputs);
    if (face) {
      const [l, c, m] = face.names;
      const f = float[l] && float[c] && float[m] ? { loc: float[l], conf: float[c], landmarks: float[m] } : undefined;
      return { kind: 'retinaface', inputH, inputW, int8: decodeRetinaFace(face.outputs, o), float: f ? decodeRetinaFace(f, o) : [] };
    }
    const [name, q] = pickOutput(outputs, 'detect-yolox');
    const int8 = decodeYolox(q.data, q.shape, o);
    const f = float[name];
    return { kind: 'yolox', inputH, inputW, int8, float: f ? decodeYolox(f.data, f.shape, o) : [] };
  } catch {
    return undefined;
  }
}

let runner: SampleRunner | undefined;
/** The prepared model's input ports (an opened _int.xmodel's samples arrive NHWC and are put in their order). */
let ports: readonly { name: string; shape: readonly number[] }[] = [];
/** The last run's int8 tensors and float values, for the tensor view. */
let last: { run: SimRun; float: Readonly<Record<string, FloatTensor>>; fakeQuant: ReadonlyMap<string, Int8Array>; feeds: Record<string, FloatTensor>; ort?: Promise<Map<string, Int8Array>> } | undefined;
/** The QDQ model being simulated (an ONNX source), for the tensor view's onnxruntime comparison. */
let qdq: Model | undefined;
let abort: AbortController | undefined;

const inPortOrder = (f: Record<string, FloatTensor>) => feedsForPorts(f, ports);

function rethrow(e: unknown): never {
  const err = e instanceof Error ? e : new Error(String(e));
  throw Object.assign(new Error(err.message), { name: isInputError(err) ? 'InputError' : err.name });
}

const api = {
  /** Prepares the model for the target; a previous simulation is released first. */
  async prepare(bytes: Uint8Array, fileName: string, choice: TargetChoice, conversions: Conversions, floatBytes?: Uint8Array,
    kernelThreads?: number): Promise<SimPrepared> {
    try {
      abort?.abort();
      last = undefined;
      const old = runner;
      runner = undefined;
      await old?.release();
      const t0 = performance.now();
      const src = await quantizedSource(bytes, fileName, floatBytes);
      qdq = src.source.kind === 'onnx' ? src.source.model : undefined;
      // One sample at a time: onnxruntime's CPU subgraphs are small, a thread pool would cost more than it saves.
      // The DPU kernels split their big layers over the cores onnxruntime would get (at most 4), unless the
      // caller says otherwise: an Evaluate pool's workers already split the samples over the cores.
      const ort = { ...workerOrtOptions(), threads: 1 };
      const kt = Math.min(4, kernelThreads ?? workerOrtOptions().threads ?? 1);
      const sim = await prepareSimulation(src.source, resolveTarget(choice), { conversions, ...ort, kernelThreads: kt });
      runner = new SampleRunner(sim, src.float, ort, src.aliases);
      ports = sim.inputs;
      return {
        target: sim.compile.target.name,
        inputs: sim.inputs.map((p) => ({ ...p, shape: [...p.shape] })),
        outputs: sim.outputs.map((p) => ({ ...p, shape: [...p.shape] })),
        subgraphs: sim.compile.deviceSubgraphNumber,
        dpuSubgraphs: sim.compile.dpuSubgraphNumber,
        hasFloat: !!src.float,
        featureMapBytes: { ...sim.featureMapBytes },
        kernelThreads: sim.kernelThreads,
        ms: performance.now() - t0,
      };
    } catch (e) { rethrow(e); }
  },

  /** One sample; a cancel (or a newer run) rejects it with an AbortError. */
  /** `onPhase` hears the phase (int8, fake-quant, float) and, during the int8 run, each subgraph as it starts. */
  async run(given: Record<string, FloatTensor>, onPhase?: (p: string) => void): Promise<{ report: SimReport; detections?: SimDetections }> {
    try {
      if (!runner) throw new Error('no simulation prepared');
      const feeds = feedsForPorts(given, ports);
      abort?.abort();
      const ctl = new AbortController();
      abort = ctl;
      const shape = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { shape: t.shape, data: new Float32Array(0) }]));
      const onSubgraph = onPhase && ((p: SubgraphProgress) => { void onPhase(subgraphPhase(p)); });
      const { report, run, float, fakeQuant } = await runner.run(feeds, { signal: ctl.signal, onPhase, onSubgraph });
      last = { run, float, fakeQuant, feeds };
      if (ctl.signal.aborted) throw Object.assign(new Error('simulation cancelled'), { name: 'AbortError' });
      const outputs = Object.fromEntries(Object.entries(run.outputs).map(([n, o]) => [n, o.value]));
      return { report, detections: detections(shape, outputs, float) };
    } catch (e) { rethrow(e); }
  },

  /**
   * One labelled sample for the Evaluate section: the top class of the float model and of the int8
   * simulation (no fake-quant run, no per-tensor report). -1 for float without a float reference.
   */
  async classify(feeds: Record<string, FloatTensor>): Promise<{ float: number; int8: number }> {
    try {
      if (!runner) throw new Error('no simulation prepared');
      const { run, float } = await runner.classify(inPortOrder(feeds));
      const outputs = Object.fromEntries(Object.entries(run.outputs).map(([n, o]) => [n, o.value]));
      const [name, q] = pickOutput(outputs, 'classify');
      const f = float[name];
      return { int8: argmax(q.data), float: f ? argmax(f.data) : -1 };
    } catch (e) { rethrow(e); }
  },

  /**
   * Channel grid and histograms of one DPU tensor of the last run, its codes compared with the fake-quant
   * run or with onnxruntime on the QDQ model (QuantizeLinear rounds ties to even: real differences).
   */
  async tensorView(name: string, against: 'fake-quant' | 'onnxruntime' = 'fake-quant'): Promise<TensorView> {
    try {
      const l = last;
      const t = l?.run.tensors.get(name);
      if (!l || !t) throw new Error(`no simulated tensor "${name}" in the last run`);
      let other = l.fakeQuant.get(name);
      if (against === 'onnxruntime') {
        if (!qdq) throw new Error('the onnxruntime comparison needs a QDQ ONNX model');
        // One onnxruntime run of the whole QDQ model per sample, the first time a tensor asks for it.
        l.ort ??= qdqRuntime(qdq, new Map([...l.run.tensors.values()].map((x) => [x.name, x.fixPoint])), l.feeds, { ...workerOrtOptions(), threads: 1 }).then((r) => r.codes);
        try {
          other = (await l.ort).get(name);
        } catch (e) {
          l.ort = undefined;
          throw e;
        }
      }
      const v = tensorView(t.name, t.shape, t.fixPoint, t.q, l.float[name]?.data, other ? { name: against === 'onnxruntime' ? 'onnxruntime' : 'fake-quant', q: other } : undefined);
      const { values, differ } = v;
      return Comlink.transfer(v, [v.int8.buffer, ...(v.float ? [v.float.buffer] : []), ...(v.diff ? [v.diff.buffer] : []),
        values.q.buffer, ...(values.float ? [values.float.buffer] : []), ...(values.other ? [values.other.buffer] : []), ...(differ ? [differ.overlay.buffer] : [])]);
    } catch (e) { rethrow(e); }
  },

  cancel(): void {
    abort?.abort();
  },
};

export type SimApi = typeof api;
Comlink.expose(api);
