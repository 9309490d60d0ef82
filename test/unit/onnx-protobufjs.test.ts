// Cross-check of the hand-written wire codec against protobufjs decoding with onnx.proto's field
// numbers (the subset below is copied from onnx/onnx.proto, proto2).
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { ONNX_DTYPE, type AttrValue } from '../../src/core/ir';
import { readOnnx } from '../../src/core/onnx/reader';
import { toFloat64 } from '../../src/core/onnx/values';
import { writeOnnx } from '../../src/core/onnx/writer';

const SCHEMA = `
syntax = "proto2";
package onnx;
message AttributeProto {
  optional string name = 1; optional int32 type = 20; optional float f = 2; optional int64 i = 3;
  optional bytes s = 4; optional TensorProto t = 5; optional GraphProto g = 6;
  repeated float floats = 7; repeated int64 ints = 8; repeated bytes strings = 9;
  repeated TensorProto tensors = 10; repeated GraphProto graphs = 11;
}
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message NodeProto {
  repeated string input = 1; repeated string output = 2; optional string name = 3; optional string op_type = 4;
  optional string domain = 7; repeated AttributeProto attribute = 5;
}
message ModelProto {
  optional int64 ir_version = 1; repeated OperatorSetIdProto opset_import = 8; optional string producer_name = 2;
  optional string producer_version = 3; optional GraphProto graph = 7;
}
message GraphProto {
  repeated NodeProto node = 1; optional string name = 2; repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; repeated ValueInfoProto value_info = 13;
}
message TensorProto {
  repeated int64 dims = 1; optional int32 data_type = 2; repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true]; repeated bytes string_data = 6; repeated int64 int64_data = 7 [packed = true];
  optional string name = 8; optional bytes raw_data = 9; repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}
message TensorShapeProto { message Dimension { optional int64 dim_value = 1; optional string dim_param = 2; } repeated Dimension dim = 1; }
message TypeProto { message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; } optional Tensor tensor_type = 1; }
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
`;
const ModelProto = protobuf.parse(SCHEMA).root.lookupType('onnx.ModelProto');

interface PbAttr { name: string; type?: number; f?: number; i?: number; s?: Uint8Array; ints?: number[]; floats?: number[]; strings?: Uint8Array[] }
interface PbNode { input?: string[]; output?: string[]; name?: string; opType: string; domain?: string; attribute?: PbAttr[] }
interface PbTensor { name: string; dims?: number[]; dataType: number; rawData?: Uint8Array; floatData?: number[] }
interface PbModel { irVersion: number; producerName: string; opsetImport: { domain?: string; version: number }[]; graph: { node: PbNode[]; initializer: PbTensor[] } }

function decode(bytes: Uint8Array): PbModel {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Uint8Array, defaults: false }) as unknown as PbModel;
}

function pbAttrValue(a: PbAttr): unknown {
  const dec = new TextDecoder();
  switch (a.type) {
    case 1: return a.f;
    case 2: return a.i;
    case 3: return dec.decode(a.s);
    case 6: return a.floats;
    case 7: return a.ints;
    case 8: return a.strings?.map((x) => dec.decode(x));
    default: return undefined;
  }
}

function ourAttrValue(a: AttrValue): unknown {
  return a.kind === 'tensor' || a.kind === 'graph' || a.kind === 'tensors' || a.kind === 'graphs' ? undefined : a.value;
}

function compare(bytes: Uint8Array): void {
  const pb = decode(bytes);
  const ours = readOnnx(bytes);
  expect(ours.producer).toBe(pb.producerName ?? '');
  expect(ours.opset).toBe(pb.opsetImport.find((o) => !o.domain)?.version);
  expect(ours.graph.nodes).toHaveLength(pb.graph.node.length);
  pb.graph.node.forEach((n, i) => {
    const o = ours.graph.nodes[i];
    expect(o.opType).toBe(n.opType);
    expect(o.inputs).toEqual(n.input ?? []);
    expect(o.outputs).toEqual(n.output ?? []);
    if (n.name) expect(o.name).toBe(n.name);
    for (const a of n.attribute ?? []) {
      const mine = o.attrs[a.name];
      expect(mine, `${o.name}.${a.name}`).toBeDefined();
      const want = pbAttrValue(a);
      if (want === undefined) continue;
      // protobufjs decodes float fields as float32-rounded doubles, as we do.
      expect(ourAttrValue(mine), `${o.name}.${a.name}`).toEqual(want);
    }
  });
  expect(ours.graph.initializers.size).toBe(pb.graph.initializer.length);
  for (const t of pb.graph.initializer) {
    const mine = ours.graph.initializers.get(t.name)!;
    expect(mine.shape).toEqual(t.dims ?? []);
    expect(mine.dtype).toBe(ONNX_DTYPE[t.dataType]);
    if (t.rawData) {
      const v = mine.values as Uint8Array;
      expect(Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(t.rawData))).toBe(true);
    } else if (t.floatData) {
      expect(Array.from(toFloat64(mine))).toEqual(t.floatData);
    }
  }
}

describe('hand-written decoder agrees with protobufjs', () => {
  for (const f of ['mnist-8.onnx', 'yolox_nano.onnx', 'retinaface_vitis_qdq.onnx', 'light_resnet50.onnx']) {
    it(f, () => compare(new Uint8Array(readFileSync(`public/models/${f}`))));
  }
  it('on writeOnnx output (the writer produces what protobuf expects)', () => {
    const m = readOnnx(new Uint8Array(readFileSync('public/models/retinaface_vitis_qdq.onnx')));
    const bytes = writeOnnx(m);
    compare(bytes);
    expect(decode(bytes).irVersion).toBe(7);
  });
});
