// Element types of tensors, named as numpy/onnxruntime name them. ONNX codes map onto these.

export type DType =
  | 'float32' | 'float64' | 'float16' | 'bfloat16'
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'int4' | 'uint4' | 'float4e2m1'
  | 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz'
  | 'bool' | 'string' | 'complex64' | 'complex128';

/** TensorProto.DataType codes (onnx.proto) → DType. */
export const ONNX_DTYPE: Readonly<Record<number, DType>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128',
  16: 'bfloat16', 17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz',
  21: 'uint4', 22: 'int4', 23: 'float4e2m1',
};

export const ONNX_DTYPE_CODE: Readonly<Record<DType, number>> = Object.fromEntries(
  Object.entries(ONNX_DTYPE).map(([code, name]) => [name, Number(code)]),
) as Record<DType, number>;

/** Storage bits per element (4 for the packed 4-bit types); 0 for string. */
export function bitsPerElement(dtype: DType): number {
  switch (dtype) {
    case 'float64': case 'int64': case 'uint64': case 'complex64': return 64;
    case 'complex128': return 128;
    case 'float32': case 'int32': case 'uint32': return 32;
    case 'float16': case 'bfloat16': case 'int16': case 'uint16': return 16;
    case 'int4': case 'uint4': case 'float4e2m1': return 4;
    case 'string': return 0;
    default: return 8;
  }
}

export function isFloat(dtype: DType): boolean {
  return dtype.startsWith('float') || dtype === 'bfloat16';
}
