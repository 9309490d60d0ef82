// What the simulator accepts: a quantized model. A QDQ ONNX (power-of-two scales: the Quantize step's
// export, `fixpoint quantize`, a Vitis AI QDQ) or a quantizer `*_int.xmodel`; a float model or an
// already compiled .xmodel is refused with what to do instead.
import type { CompileSource } from '../compile';
import { InputError } from '../errors';
import type { Model } from '../ir';
import { openModelAsync } from '../open';
import { readXModel } from '../xmodel/codec';
import { subgraphDevice } from '../xmodel/types';
import { dequantizeModel } from './dpu/source';

export interface QuantizedSource {
  readonly source: CompileSource;
  /**
   * The SQNR reference: the float model that was quantized when the caller has it, else the QDQ model
   * with its Q/DQ pairs removed (float activations, weights on their int8 grid); absent for an xmodel.
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
  if (/\.xmodel$/i.test(fileName)) {
    const xmodel = readXModel(bytes);
    if (xmodel.root.children.some((c) => subgraphDevice(c) !== undefined))
      throw new InputError(`${label} is already compiled (it has device subgraphs); simulate takes the quantizer's *_int.xmodel or a QDQ ONNX`);
    return { source: { kind: 'xmodel', xmodel }, aliases: (n) => [n] };
  }
  // A private copy at offset 0: typed-array views of 64-bit constants need 8-byte alignment.
  const model = await openModelAsync(bytes.byteOffset % 8 === 0 ? bytes : bytes.slice(), fileName);
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
