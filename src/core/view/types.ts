// The graph as the viewer draws it: plain data (no typed arrays) so it crosses worker boundaries by
// structured clone cheaply, and weights stay in the model worker.
import type { Dim, DType } from '../ir';

export type OpCategory =
  | 'conv' | 'activation' | 'pool' | 'norm' | 'shape' | 'quant' | 'control' | 'other' | 'io';

/** A constant input drawn inside its consumer (an initializer, a folded Constant or constant subgraph). */
export interface DisplayWeight {
  /** The input's role for the op ("W", "B", "scale"), or its position when the op is not known. */
  readonly label: string;
  readonly tensor: string;
  readonly dtype?: DType;
  readonly shape?: readonly Dim[];
  /** True when the tensor is an initializer whose values the model worker can summarise. */
  readonly stored: boolean;
  /** The values, for tensors of a handful of elements (scales, zero points, axes). */
  readonly preview?: string;
}

export interface DisplayPort {
  readonly tensor: string;
  readonly dtype?: DType;
  readonly shape?: readonly Dim[];
}

export interface DisplayAttr {
  readonly name: string;
  readonly text: string;
}

/** The op types inside one graph attribute of If/Loop/Scan. */
export interface DisplaySubgraph {
  readonly attr: string;
  readonly ops: readonly { readonly opType: string; readonly name: string }[];
}

export interface DisplayNode {
  readonly id: string;
  readonly kind: 'op' | 'input' | 'output';
  /** Op type, or the tensor name for inputs and outputs. */
  readonly label: string;
  readonly name: string;
  readonly domain: string;
  readonly category: OpCategory;
  /** A custom-domain op whose semantics the tool does not know. */
  readonly unknown: boolean;
  readonly weights: readonly DisplayWeight[];
  /** The few attributes worth reading on the node itself (kernel, stride, group, pads). */
  readonly summary: readonly DisplayAttr[];
  /** Every attribute, for the side panel. */
  readonly attrs: readonly DisplayAttr[];
  /** Non-constant inputs and all outputs, with what is known of them. */
  readonly inputs: readonly DisplayPort[];
  readonly outputs: readonly DisplayPort[];
  /** Names of Constant (and constant-subgraph) nodes folded into this one. */
  readonly folded: readonly string[];
  readonly subgraphs: readonly DisplaySubgraph[];
}

export interface DisplayEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly tensor: string;
  /** The tensor's shape ("1×8×28×28"), '' when unknown. */
  readonly label: string;
}

export interface DisplayGraph {
  readonly name: string;
  readonly nodes: readonly DisplayNode[];
  readonly edges: readonly DisplayEdge[];
  /** XIR fix ops of feature maps in the model (drawn or folded into their edges, see DisplayOptions). */
  readonly fixOps?: number;
}

/** Where the layout put each node (top-left corner) and its size. */
export interface NodeBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Layout {
  readonly boxes: Readonly<Record<string, NodeBox>>;
  readonly width: number;
  readonly height: number;
}
