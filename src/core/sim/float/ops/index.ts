import type { Kernel } from '../kernel';
import { conv, convTranspose } from './conv';
import { binaryKernels, unaryKernels } from './elementwise';
import { gemm, matmul } from './gemm';
import { normKernels } from './norm';
import { poolKernels } from './pool';
import { quantKernels } from './quant';
import { reduceKernels } from './reduce';
import { resizeKernels } from './resize';
import { shapeKernels } from './shape';

/** Kernels of the default ONNX domain, by op type. */
export const KERNELS: Readonly<Record<string, Kernel>> = {
  ...unaryKernels,
  ...binaryKernels,
  ...normKernels,
  ...poolKernels,
  ...quantKernels,
  ...reduceKernels,
  ...resizeKernels,
  ...shapeKernels,
  Conv: conv,
  ConvTranspose: convTranspose,
  Gemm: gemm,
  MatMul: matmul,
};
