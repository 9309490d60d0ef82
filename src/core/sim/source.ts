// What the simulator accepts: a quantized model. A QDQ ONNX (power-of-two scales: the Quantize step's
// export, `fixpoint quantize`, a Vitis AI QDQ) or a quantizer `*_int.xmodel`; a float model or an
// already compiled .xmodel is refused with what to do instead.
import type { CompileSource } from '../compile';
import { InputError } from '../errors';
import type { FloatTensor, Model } from '../ir';
import { openModelAsync } from '../open';
import { readXModel } from '../xmodel/codec';
import { qdqFromIntXModel } from '../xmodel/to-qdq';
import { dequantizeModel } from './dpu/source';

export interface QuantizedSource {
  readonly source: CompileSource;
  /**
   * The SQNR reference: the float model that was quantized when the caller has it, else the QDQ model
   * with its Q/DQ pairs removed (float activations, weights on their int8 grid).
   */
  readonly float?: Model;
  /**
   * Every name a tensor goes by in the QDQ model: itself, the float tensor a Q/DQ output quantizes, and
   * the Q/DQ outputs of that tensor (a graph output keeps its name on the DequantizeLinear copy), so a
   * float model that names it either way can be read.
   */
  readonly aliases: (name: string) => readonly string[];
}

export async function quantizedSource(bytes: Uint8Array, fileName: string, floatBytes?: Uint8Array): Promise<QuantizedSource> {
  const label = fileName || 'the model';
  // A quantizer `_int.xmodel` is read as the QDQ model it stands for (a compiled one is refused, naming
  // the `_int.xmodel` it came from).
  const model = /\.xmodel$/i.test(fileName)
    ? qdqFromIntXModel(readXModel(bytes), label)
    // A private copy at offset 0: typed-array views of 64-bit constants need 8-byte alignment.
    : await openModelAsync(bytes.byteOffset % 8 === 0 ? bytes : bytes.slice(), fileName);
  if (!model.graph.nodes.some((n) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear')) throw new InputError(`${label} is a float model (no QuantizeLinear/DequantizeLinear): quantize it first with \`fixpoint quantize\` (or the Quantize step)`);
  // Also refuses scales that are not powers of two, naming the tensor.
  const { float, resolve } = dequantizeModel(model);
  const names = new Map<string, string[]>();
  for (const n of [...model.graph.nodes.flatMap((x) => x.outputs), ...model.graph.outputs.map((o) => o.name)]) {
    const r = resolve(n);
    if (r !== n) names.set(r, [...(names.get(r) ?? []), n]);
  }
  const aliases = (n: string) => [...new Set([n, resolve(n), ...(names.get(resolve(n)) ?? [])])];
  return { source: { kind: 'onnx', model }, float: floatBytes ? await openModelAsync(floatBytes, 'float.onnx') : float, aliases };
}

/**
 * Feeds in the simulator's input layout. An opened `_int.xmodel` declares NHWC inputs (XIR's layout), so the
 * samples read for it come NHWC; the model it is simulated as takes NCHW (the source framework's order).
 * A 4-D feed shaped [N, H, W, C] for a port [N, C, H, W] is transposed; every other feed passes unchanged.
 */
export function feedsForPorts(feeds: Readonly<Record<string, FloatTensor>>, ports: readonly { name: string; shape: readonly number[] }[]): Record<string, FloatTensor> {
  const out: Record<string, FloatTensor> = { ...feeds };
  for (const p of ports) {
    const f = feeds[p.name];
    if (!f || p.shape.length !== 4 || f.shape.length !== 4) continue;
    const [n, c, h, w] = p.shape;
    const same = f.shape.every((d, i) => d === p.shape[i]);
    if (same || f.shape[0] !== n || f.shape[1] !== h || f.shape[2] !== w || f.shape[3] !== c) continue;
    const data = new Float32Array(f.data.length);
    for (let b = 0; b < n; b++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let ch = 0; ch < c; ch++) data[((b * c + ch) * h + y) * w + x] = f.data[((b * h + y) * w + x) * c + ch];
    out[p.name] = { shape: [n, c, h, w], data };
  }
  return out;
}
