// What the simulator accepts: a quantized model. A QDQ ONNX (power-of-two scales: the Quantize step's
// export, `fixpoint quantize`, a Vitis AI QDQ) or a quantizer `*_int.xmodel`; a float model or an
// already compiled .xmodel is refused with what to do instead.
import type { CompileSource } from '../compile';
import { InputError } from '../errors';
import type { Model } from '../ir';
import { openModel } from '../open';
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
  /** A Q/DQ output name → the tensor it quantizes (the name the float model without Q/DQ has). */
  readonly resolve: (name: string) => string;
}

export function quantizedSource(bytes: Uint8Array, fileName: string, floatBytes?: Uint8Array): QuantizedSource {
  const label = fileName || 'the model';
  if (/\.xmodel$/i.test(fileName)) {
    const xmodel = readXModel(bytes);
    if (xmodel.root.children.some((c) => subgraphDevice(c) !== undefined))
      throw new InputError(`${label} is already compiled (it has device subgraphs); simulate takes the quantizer's *_int.xmodel or a QDQ ONNX`);
    return { source: { kind: 'xmodel', xmodel }, resolve: (n) => n };
  }
  // A private copy at offset 0: typed-array views of 64-bit constants need 8-byte alignment.
  const model = openModel(bytes.byteOffset % 8 === 0 ? bytes : bytes.slice(), fileName);
  if (!model.graph.nodes.some((n) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear')) throw new InputError(`${label} is a float model (no QuantizeLinear/DequantizeLinear): quantize it first with \`fixpoint quantize\` (or the Quantize step)`);
  // Also refuses scales that are not powers of two, naming the tensor.
  const { float, resolve } = dequantizeModel(model);
  return { source: { kind: 'onnx', model }, float: floatBytes ? openModel(floatBytes, 'float.onnx') : float, resolve };
}
