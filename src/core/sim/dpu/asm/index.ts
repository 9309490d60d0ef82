// The int8 DPU kernels (compiled to src/core/sim/dpu/kernels.gen.ts by scripts/build-wasm.ts).
// No allocator: the JS side (kernels.ts) plans all memory above heapBase().
export { setEpilogue, fitsI32, prepareBias, epilogueRows } from './epilogue';
export { buildV, buildV16, im2col, im2col16, im2colTaps, im2colTaps16, convCore, convWide, dwCore, dw3x3 } from './conv';
export { maxPool, avgPool, requantRun } from './pool';
export { add, add16, mul, requantize, quantize, dequantize, quantizeToNhwc, dequantizeToNchw } from './eltwise';
export { transpose8 } from './transpose';

export function heapBase(): usize {
  return __heap_base;
}
export { concatInto, upsampleNearest } from './move';
