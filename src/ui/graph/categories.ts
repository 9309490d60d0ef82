import type { OpCategory } from '../../core/view/types';

/** Header colours per category, close to Netron's palette. */
export const CATEGORY_STYLE: Readonly<Record<OpCategory, { readonly label: string; readonly color: string }>> = {
  conv: { label: 'Convolution / MatMul', color: '#335588' },
  activation: { label: 'Activation', color: '#702921' },
  pool: { label: 'Pooling', color: '#335533' },
  norm: { label: 'Normalisation', color: '#335544' },
  shape: { label: 'Shape / tensor', color: '#6b4f3f' },
  quant: { label: 'Quantize / dequantize', color: '#6a3d8f' },
  control: { label: 'Control flow', color: '#8a6a14' },
  other: { label: 'Other', color: '#555b63' },
  io: { label: 'Input / output', color: '#e4e6ea' },
};
