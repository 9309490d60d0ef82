// Model worker: parses the file and KEEPS the model, so weights never cross to the UI. The UI gets a
// display graph, and asks for weight statistics and the summary on demand.
import * as Comlink from 'comlink';
import type { ConstTensor, Model } from '../src/core/ir';
import { openModel, openModelAsync } from '../src/core/open';
import { summarize } from '../src/core/analysis/summary';
import { tensorStats } from '../src/core/analysis/stats';
import { toDisplayGraph } from '../src/core/view/display';
import { contentHash } from '../src/core/view/hash';
import { layoutInput } from '../src/core/view/layout';
import { layoutLayered } from '../src/core/view/layered';
import { isInputError } from '../src/core/errors';
import { warmUpModels } from './warm-up';
import { CompileSession, compiledFileView, isCompiled, type TargetChoice } from './compile';
import { readXModel } from '../src/core/xmodel/codec';
import { readOnnx } from '../src/core/onnx/reader';
import { writeOnnx } from '../src/core/onnx/writer';
import { constantTensor } from '../src/core/onnx/shapes';
import type { Conversions } from '../src/core/compile';
import type { Opened, OpenStage, WeightStats } from './protocol';
import * as quant from './quant';

let model: Model | undefined;
/** The opened file as read: an already quantized model goes to the simulator as it is. */
let opened: { bytes: Uint8Array; fileName: string } | undefined;
/** The opened file's content hash, computed on the first `hash()` call after the open returned. */
let hashed: Promise<string> | undefined;
let hashBytes: Uint8Array | undefined;
let compiler: { kind: 'session'; session: CompileSession; fileName: string } | { kind: 'compiled'; view: ReturnType<typeof compiledFileView> } | undefined;

/** A compiled .xmodel is shown as the file's own subgraphs; anything else compiles from its layers. */
function compilerFor(bytes: Uint8Array, fileName: string, m: Model): typeof compiler {
  if (!/\.xmodel$/i.test(fileName)) return { kind: 'session', session: new CompileSession({ kind: 'onnx', model: m }, fileName), fileName };
  const x = readXModel(bytes);
  return isCompiled(x) ? { kind: 'compiled', view: compiledFileView(x) } : { kind: 'session', session: new CompileSession({ kind: 'xmodel', xmodel: x }, fileName), fileName };
}

/** The Quantize step's result as a QDQ model, rebuilt when the UI's quant version changes. */
let quantized: { version: number; session: CompileSession | undefined } = { version: 0, session: undefined };

function compileSession(quantVersion = 0): CompileSession {
  if (compiler?.kind !== 'session') throw new Error(compiler ? 'this file is already compiled' : 'no model is open');
  if (quantVersion !== quantized.version) {
    let session: CompileSession | undefined;
    try {
      session = new CompileSession({ kind: 'onnx', model: readOnnx(quant.exportArtifacts('qdq').bytes) }, compiler.fileName, true);
    } catch (e) {
      // Not quantized in this session (or an imported QDQ model): compile the model itself.
      if (!isInputError(e)) throw e;
      session = undefined;
    }
    quantized = { version: quantVersion, session };
  }
  return quantized.session ?? compiler.session;
}
/** Initializers and Constant values by tensor name: every weight the display graph can show. */
let constants = new Map<string, ConstTensor>();

function collectConstants(m: Model): Map<string, ConstTensor> {
  const out = new Map(m.graph.initializers);
  for (const n of m.graph.nodes) {
    const t = n.opType === 'Constant' && n.outputs[0] ? constantTensor(n) : undefined;
    if (t) out.set(t.name, t);
  }
  return out;
}

/** Errors cross Comlink as plain objects; keep whether it was the user's input so the UI can say so. */
function rethrow(e: unknown): never {
  const err = e instanceof Error ? e : new Error(String(e));
  throw Object.assign(new Error(err.message), { name: isInputError(err) ? 'InputError' : err.name });
}

const api = {
  /**
   * Reads and parses a model file and lays its graph out. `file` may be the File itself (read here, so the
   * page's thread never holds the bytes) or bytes already in memory (a stored project, a sample).
   */
  async open(file: Blob | Uint8Array, fileName: string, onStage?: (stage: OpenStage) => void): Promise<Opened> {
    try {
      const t0 = performance.now();
      const bytes = file instanceof Uint8Array ? file : new Uint8Array(await file.arrayBuffer());
      onStage?.('reading');
      const t1 = performance.now();
      const m = await openModelAsync(bytes, fileName);
      onStage?.('display');
      const t2 = performance.now();
      const graph = toDisplayGraph(m);
      // Laid out here, where the display graph already is: no second worker and no copy of the graph to it.
      onStage?.('layout');
      const t3 = performance.now();
      const layout = layoutLayered(layoutInput(graph));
      const ms = { read: t1 - t0, parse: t2 - t1, display: t3 - t2, layout: performance.now() - t3 };
      model = m;
      opened = { bytes, fileName };
      constants = collectConstants(m);
      compiler = compilerFor(bytes, fileName, m);
      quantized = { version: 0, session: undefined };
      quant.resetQuant();
      // The digest is not on the way to the drawing: SubtleCrypto copies the whole file first and then
      // hashes it (21 MB of EfficientNet took 27 ms idle, up to 300 ms on a busy machine). It runs when the
      // page asks for it, once the graph is drawn, so that it does not take a core from the drawing either.
      hashed = undefined;
      hashBytes = bytes;
      return {
        graph,
        layout,
        ms,
        info: {
          fileName, format: m.format, byteLength: bytes.byteLength, producer: m.producer, producerVersion: m.producerVersion,
          opset: m.opset, opCount: m.graph.nodes.length,
        },
      };
    } catch (e) {
      rethrow(e);
    }
  },

  /** The SHA-256 of the file opened last (the project's and the layout cache's key). */
  async hash(): Promise<string> {
    if (!hashBytes) throw new Error('no model is open');
    try { return await (hashed ??= contentHash(hashBytes)); } catch (e) { rethrow(e); }
  },

  /** The open model drawn again, with XIR fix ops as nodes or folded into their edges. */
  displayGraph(showFix: boolean) {
    try {
      if (!model) throw new Error('no model is open');
      return toDisplayGraph(model, { showFix });
    } catch (e) { rethrow(e); }
  },

  stats(tensor: string, bins: number): WeightStats | null {
    const t = constants.get(tensor);
    if (!t || t.dtype === 'string') return null;
    const s = tensorStats(t, bins);
    return {
      tensor, dtype: t.dtype, shape: t.shape, count: s.count, min: s.min, max: s.max, mean: s.mean, std: s.std,
      counts: Array.from(s.histogram.counts),
    };
  },

  /**
   * Reads a small generated model a few times so the reader's code is optimised by the JIT before the
   * user's file arrives (the app keeps a spare worker warmed this way).
   */
  warmUp(): void {
    const models = warmUpModels();
    for (let r = 0; r < 5; r++) for (const m of models) layoutLayered(layoutInput(toDisplayGraph(openModel(m.bytes, m.name))));
  },

  /** The open model as a float ONNX file (how an imported Keras/TFLite model is saved as ONNX). */
  floatOnnx(): Uint8Array {
    if (!model) throw new Error('no model is open');
    if (model.format === 'xmodel') throw Object.assign(new Error('an .xmodel has no ONNX form'), { name: 'InputError' });
    return writeOnnx(model);
  },

  summary() {
    if (!model) throw new Error('no model is open');
    return summarize(model);
  },

  // DPU compilation (workers/compile.ts): a compiled .xmodel shows its own subgraphs instead.
  compiledFile() {
    return compiler?.kind === 'compiled' ? compiler.view : null;
  },
  /** `quantVersion` counts the UI's quantize results: a new one compiles the quantized (QDQ) model. */
  compile(choice: TargetChoice, conversions: Conversions, quantVersion = 0) {
    try {
      return compileSession(quantVersion).run(choice, conversions);
    } catch (e) { rethrow(e); }
  },
  deployment() {
    try { return compileSession(quantized.version).deployment(quant.calibPreprocess()); } catch (e) { rethrow(e); }
  },
  intXModel(): Uint8Array {
    try {
      const bytes = compileSession(quantized.version).intXModelBytes();
      return Comlink.transfer(bytes, [bytes.buffer]);
    } catch (e) { rethrow(e); }
  },
  standinNpz(): Uint8Array {
    try {
      const bytes = compileSession(quantized.version).standinNpzBytes();
      return Comlink.transfer(bytes, [bytes.buffer]);
    } catch (e) { rethrow(e); }
  },
  compiledXModel(): Uint8Array {
    try {
      const bytes = compileSession(quantized.version).xmodelBytes();
      return Comlink.transfer(bytes, [bytes.buffer]);
    } catch (e) { rethrow(e); }
  },

  // Calibration and quantization (workers/quant.ts); errors keep their InputError name.
  quantInput() { return guard(() => quant.modelInput(need())); },
  setCalibration(files: { name: string; bytes: Uint8Array }[], pre: unknown, limit?: number) { return guard(() => quant.setCalibration(need(), files, pre, limit)); },
  calibPreview(n: number) { return guard(() => quant.calibPreview(n)); },
  async quantize(configText: string, onProgress?: Parameters<typeof quant.runQuantize>[2]) {
    try { return await quant.runQuantize(need(), configText, onProgress); } catch (e) { rethrow(e); }
  },
  cancelQuantize() { quant.cancelQuantize(); },
  async requantize(overrides: Parameters<typeof quant.applyOverrides>[0]) {
    try { return await quant.applyOverrides(overrides); } catch (e) { rethrow(e); }
  },
  tensorDetail(name: string) { return quant.tensorDetail(name); },
  importedFixPoints() { return guard(() => quant.importedFixPoints(need())); },
  exportArtifact(kind: quant.QuantArtifact) { return guard(() => quant.exportArtifacts(kind)); },
  checkConfig(text: string) { return guard(() => quant.checkConfig(text)); },

  // The Simulate step (workers/sim.worker.ts) runs in its own worker; it gets the model and samples here.
  /** The Quantize step's QDQ model, else the opened file itself (the simulator refuses a float one). */
  simModel(): { bytes: Uint8Array; fileName: string; fromQuantize: boolean; floatBytes?: Uint8Array } {
    return guard(() => {
      if (!opened) throw new Error('no model is open');
      let qdq: Uint8Array | undefined;
      try {
        qdq = quant.exportArtifacts('qdq').bytes;
      } catch (e) {
        if (!isInputError(e)) throw e;
      }
      const stem = opened.fileName.replace(/\.[^.]*$/, '');
      // The float side of the demo is the model as opened, run in float: what the conversions (SiLU →
      // hard-swish…) and int8 together do to its output is what the panes compare.
      const float = qdq ? model : undefined;
      const out = qdq
        ? { bytes: qdq, fileName: `${stem}_qdq.onnx`, fromQuantize: true, ...(float ? { floatBytes: writeOnnx(float) } : {}) }
        : { bytes: opened.bytes.slice(), fileName: opened.fileName, fromQuantize: false };
      return Comlink.transfer(out, [out.bytes.buffer, ...('floatBytes' in out && out.floatBytes ? [out.floatBytes.buffer] : [])]);
    });
  },
  simSample(from: quant.SampleFrom) {
    return guard(() => {
      const r = quant.sampleFeed(need(), from);
      return Comlink.transfer(r, Object.values(r.feeds).map((t) => t.data.buffer));
    });
  },
};

function need(): Model {
  if (!model) throw new Error('no model is open');
  return model;
}
function guard<T>(f: () => T): T {
  try { return f(); } catch (e) { rethrow(e); }
}

export type ModelApi = typeof api;
Comlink.expose(api);
