// The DPU compiler: front ends → layers → fusion, placement, partition, cost.
import type { Model } from '../ir';
import type { XModel } from '../xmodel/types';
import type { LayerGraph } from './builder';
import { layersFromOnnx } from './from-onnx';
import { layersFromXModel } from './from-xmodel';

export type { LayerGraph } from './builder';
export * from './layer';
export * from './partition';
export * from './cost';
export * from './targets';

export type CompileSource = { readonly kind: 'onnx'; readonly model: Model } | { readonly kind: 'xmodel'; readonly xmodel: XModel };

/** Normalises either front end into layers; do it once and re-partition freely (what-if toggles). */
export function layersOf(src: CompileSource): LayerGraph {
  return src.kind === 'onnx' ? layersFromOnnx(src.model) : layersFromXModel(src.xmodel);
}
