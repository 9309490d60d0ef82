// Writes small .tflite FlatBuffers for tests with the generated schema code (the file layout TFLite's
// converter writes: buffer 0 empty, constants in their own buffers).
import * as flatbuffers from 'flatbuffers';
import {
  Buffer as TflBuffer, BuiltinOperator, BuiltinOptions, BuiltinOptions2, CustomOptionsFormat, Model, Operator, OperatorCode,
  QuantizationDetails, QuantizationParameters, SubGraph, Tensor, TensorType,
} from '../../src/core/tflite/schema/schema_generated';

export interface TensorSpec {
  readonly name: string;
  readonly shape: number[];
  readonly type?: TensorType;
  /** Constant contents, little-endian bytes of `type`. */
  readonly data?: ArrayBufferView;
  readonly scale?: number[];
  readonly zeroPoint?: number[];
  readonly qdim?: number;
}

export interface OpSpec {
  readonly op: BuiltinOperator;
  readonly inputs: number[];
  readonly outputs: number[];
  readonly options?: readonly [BuiltinOptions, (b: flatbuffers.Builder) => flatbuffers.Offset];
}

export function buildTflite(spec: { tensors: TensorSpec[]; ops: OpSpec[]; inputs: number[]; outputs: number[] }): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  const bufferOffsets: flatbuffers.Offset[] = [TflBuffer.createBuffer(b, 0, 0n, 0n)];
  const bufferOf: number[] = [];
  for (const t of spec.tensors) {
    if (!t.data) { bufferOf.push(0); continue; }
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const v = TflBuffer.createDataVector(b, bytes);
    bufferOf.push(bufferOffsets.length);
    bufferOffsets.push(TflBuffer.createBuffer(b, v, 0n, 0n));
  }
  const tensors = spec.tensors.map((t, i) => {
    const name = b.createString(t.name);
    const shape = Tensor.createShapeVector(b, t.shape);
    let q = 0;
    if (t.scale) {
      const sc = QuantizationParameters.createScaleVector(b, t.scale);
      const zp = QuantizationParameters.createZeroPointVector(b, (t.zeroPoint ?? t.scale.map(() => 0)).map(BigInt));
      q = QuantizationParameters.createQuantizationParameters(b, 0, 0, sc, zp, QuantizationDetails.NONE, 0, t.qdim ?? 0);
    }
    Tensor.startTensor(b);
    Tensor.addShape(b, shape);
    Tensor.addType(b, t.type ?? TensorType.FLOAT32);
    Tensor.addBuffer(b, bufferOf[i]);
    Tensor.addName(b, name);
    if (q) Tensor.addQuantization(b, q);
    return Tensor.endTensor(b);
  });
  const codes: BuiltinOperator[] = [...new Set(spec.ops.map((o) => o.op))];
  const ops = spec.ops.map((o) => {
    const ins = Operator.createInputsVector(b, o.inputs);
    const outs = Operator.createOutputsVector(b, o.outputs);
    const opt = o.options ? o.options[1](b) : 0;
    return Operator.createOperator(b, codes.indexOf(o.op), ins, outs, o.options?.[0] ?? BuiltinOptions.NONE, opt, 0,
      CustomOptionsFormat.FLEXBUFFERS, 0, 0, 0n, 0n, BuiltinOptions2.NONE, 0, 0);
  });
  const sg = SubGraph.createSubGraph(b, SubGraph.createTensorsVector(b, tensors), SubGraph.createInputsVector(b, spec.inputs),
    SubGraph.createOutputsVector(b, spec.outputs), SubGraph.createOperatorsVector(b, ops), b.createString('main'), 0);
  // Old files keep codes below 127 in deprecated_builtin_code; the reader takes the larger of the two.
  const codeOffsets = codes.map((c) => OperatorCode.createOperatorCode(b, Math.min(c, 127), 0, 1, c));
  const model = Model.createModel(b, 3, Model.createOperatorCodesVector(b, codeOffsets), Model.createSubgraphsVector(b, [sg]),
    b.createString('fixpoint test'), Model.createBuffersVector(b, bufferOffsets), 0, 0, 0, 0, 0);
  Model.finishModelBuffer(b, model);
  return b.asUint8Array().slice();
}
