// What the simulator accepts: a quantized model. A QDQ ONNX (power-of-two scales: the Quantize step's
// export, `fixpoint quantize`, a Vitis AI QDQ) or a quantizer `*_int.xmodel`; a float model or an
// already compiled .xmodel is refused with what to do instead.
import type { CompileSource } from '../compile';
import { InputError } from '../errors';
import type { Model } from '../ir';
import { openModel } from '../open';
import { importQdq } from '../quant/qdq';
import { readXModel } from '../xmodel/codec';
import { subgraphDevice } from '../xmodel/types';
import { hasQdq, stripQdq } from './strip-qdq';

export interface QuantizedSource {
  readonly source: CompileSource;
  /**
   * The SQNR reference: the float model that was quantized when the caller has it, else the QDQ model
   * with its Q/DQ pairs removed (float activations, weights as stored); absent for an xmodel.
   */
  readonly float?: Model;
}

export function quantizedSource(bytes: Uint8Array, fileName: string, floatBytes?: Uint8Array): QuantizedSource {
  const label = fileName || 'the model';
  if (/\.xmodel$/i.test(fileName)) {
    const xmodel = readXModel(bytes);
    if (xmodel.root.children.some((c) => subgraphDevice(c) !== undefined))
      throw new InputError(`${label} is already compiled (it has device subgraphs); simulate takes the quantizer's *_int.xmodel or a QDQ ONNX`);
    return { source: { kind: 'xmodel', xmodel } };
  }
  // A private copy at offset 0: typed-array views of 64-bit constants need 8-byte alignment.
  const model = openModel(bytes.byteOffset % 8 === 0 ? bytes : bytes.slice(), fileName);
  if (!hasQdq(model)) throw new InputError(`${label} is a float model (no QuantizeLinear/DequantizeLinear): quantize it first with \`fixpoint quantize\` (or the Quantize step)`);
  const { fixPoints } = importQdq(model);
  if (fixPoints.size === 0) throw new InputError(`${label} has no power-of-two quantized tensors to simulate`);
  return { source: { kind: 'onnx', model }, float: floatBytes ? openModel(floatBytes, 'float.onnx') : stripQdq(model) };
}
