// Device colouring: every DPU subgraph a shade of blue, CPU subgraphs shades of orange, USER (inputs) green.
import type { DisplayGraph } from '../../core/view/types';

export type DeviceName = 'DPU' | 'CPU' | 'USER';

const HUE: Record<DeviceName, number> = { DPU: 212, CPU: 24, USER: 140 };
/** Lightness steps; neighbouring subgraphs of one device differ visibly, the hue keeps the device obvious. */
const STEPS = [42, 56, 34, 64, 48, 38, 60];

export const UNPLACED_COLOR = '#b8bcc2';

export function deviceOf(d: string | undefined): DeviceName | undefined {
  const u = d?.toUpperCase();
  return u === 'DPU' || u === 'CPU' || u === 'USER' ? u : undefined;
}

export function deviceShade(device: DeviceName, ordinal: number): string {
  const l = device === 'USER' ? 40 : STEPS[ordinal % STEPS.length];
  return `hsl(${HUE[device]}, ${device === 'CPU' ? 80 : 62}%, ${l}%)`;
}

/** Colour per subgraph index: the n-th subgraph of a device gets that device's n-th shade. */
export function subgraphColors(devices: readonly (string | undefined)[]): string[] {
  const seen: Record<DeviceName, number> = { DPU: 0, CPU: 0, USER: 0 };
  return devices.map((d) => {
    const dev = deviceOf(d);
    return dev ? deviceShade(dev, seen[dev]++) : UNPLACED_COLOR;
  });
}

/** The subgraph a display node belongs to: its own op, or one folded into it. */
export function nodeSubgraph(n: { readonly name: string; readonly folded: readonly string[] }, opSubgraph: Readonly<Record<string, number>>): number | undefined {
  const own = opSubgraph[n.name];
  if (own !== undefined) return own;
  for (const f of n.folded) if (opSubgraph[f] !== undefined) return opSubgraph[f];
  return undefined;
}

/** Display node id → colour; nodes the compiler did not place (folded constants, shape ops) are grey. */
export function nodeColors(graph: DisplayGraph, opSubgraph: Readonly<Record<string, number>>, devices: readonly (string | undefined)[]): Record<string, string> {
  const colors = subgraphColors(devices);
  const out: Record<string, string> = {};
  for (const n of graph.nodes) {
    if (n.kind === 'output') continue;
    const i = nodeSubgraph(n, opSubgraph);
    out[n.id] = i === undefined ? UNPLACED_COLOR : colors[i];
  }
  return out;
}
