// Float inference on onnxruntime-web (its wasm backend, SIMD, threads): the float reference, calibration
// activations, the CPU subgraphs of a simulated DPU model and the demos all run here. The same package
// serves Node (its `node` export, whose wasm threads work there) and the browser (`onnxruntime-web/wasm`
// in a worker): `#ort` in package.json picks one by condition.
import * as ort from '#ort';
import { InputError } from '../../errors';
import type { FloatTensor, Model } from '../../ir';
import { writeOnnx } from '../../onnx/writer';

export interface OrtOptions {
  /** wasm threads; default 1 (set explicitly: the wasm backend otherwise picks its own). */
  readonly threads?: number;
  /** Where the ort-wasm-simd-threaded.{mjs,wasm} files are served (browser builds). */
  readonly wasmPaths?: string | Record<string, string>;
}

let configured: string | undefined;

/** Global onnxruntime-web settings: they apply to every session created afterwards, so set them once. */
export function configureOrt(o: OrtOptions = {}): void {
  const key = JSON.stringify([o.threads ?? 1, o.wasmPaths ?? null]);
  if (configured === key) return;
  ort.env.wasm.numThreads = o.threads ?? 1;
  ort.env.wasm.simd = true;
  if (o.wasmPaths) ort.env.wasm.wasmPaths = o.wasmPaths;
  ort.env.logLevel = 'error';
  configured = key;
}

export interface FloatSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs one feed (any batch the model accepts); `outputs` defaults to the session's outputs. */
  run(feeds: Readonly<Record<string, FloatTensor>>, outputs?: readonly string[]): Promise<Record<string, FloatTensor>>;
  release(): Promise<void>;
}

function toOrt(t: FloatTensor): ort.Tensor {
  return new ort.Tensor('float32', t.data, [...t.shape]);
}

function fromOrt(t: ort.Tensor): FloatTensor {
  const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number | bigint>, Number);
  return { shape: t.dims.map(Number), data };
}

/**
 * A session over a model (our IR, written back to ONNX bytes) or over ONNX bytes as they are.
 * `extraOutputs` adds intermediate tensors as graph outputs, as onnxruntime's own calibrators do.
 */
export async function createFloatSession(
  src: Model | Uint8Array,
  o: OrtOptions & { readonly extraOutputs?: readonly string[]; readonly optimize?: boolean } = {},
): Promise<FloatSession> {
  configureOrt(o);
  let bytes: Uint8Array;
  if (src instanceof Uint8Array && !o.extraOutputs?.length) bytes = src;
  else {
    if (src instanceof Uint8Array) throw new InputError('createFloatSession: extra outputs need the parsed model');
    const extra = (o.extraOutputs ?? []).filter((n) => !src.graph.outputs.some((g) => g.name === n));
    const model: Model = extra.length
      ? { ...src, graph: { ...src.graph, outputs: [...src.graph.outputs, ...extra.map((name) => ({ name, dtype: src.graph.valueInfo.get(name)?.dtype ?? 'float32', shape: undefined }))] } }
      : src;
    bytes = writeOnnx(model);
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: o.optimize === false ? 'disabled' : 'all',
      logSeverityLevel: 3,
    });
  } catch (e) {
    throw new InputError(`onnxruntime could not load the model: ${String((e as Error).message ?? e).split('\n')[0]}`);
  }
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, outputs) {
      const f: Record<string, ort.Tensor> = {};
      for (const [k, t] of Object.entries(feeds)) f[k] = toOrt(t);
      const res = await session.run(f, outputs ? [...outputs] : session.outputNames);
      const out: Record<string, FloatTensor> = {};
      for (const [k, t] of Object.entries(res)) { out[k] = fromOrt(t); t.dispose?.(); }
      return out;
    },
    release: () => session.release(),
  };
}
