// Device colouring: every DPU subgraph a shade of blue, CPU subgraphs shades of orange, USER (inputs) green.
import type { DisplayGraph } from '../../core/view/types';

export type DeviceName = 'DPU' | 'CPU' | 'USER';

/** Hue ranges (degrees): every shade of a device stays recognisably that device's colour. */
export const HUE_RANGE: Readonly<Record<DeviceName, readonly [number, number]>> = { DPU: [196, 236], CPU: [16, 36], USER: [140, 140] };
/**
 * Lightness levels; consecutive subgraphs step through them, so neighbours always differ by at least one
 * level (8 points) even when their hues are close.
 */
const LIGHTNESS = [34, 58, 42, 66, 50, 38, 62, 46, 54];

export const UNPLACED_COLOR = '#b8bcc2';

export function deviceOf(d: string | undefined): DeviceName | undefined {
  const u = d?.toUpperCase();
  return u === 'DPU' || u === 'CPU' || u === 'USER' ? u : undefined;
}

/**
 * The ordinal-th of `count` shades of a device, all distinct: lightness cycles through LIGHTNESS, and each
 * cycle takes its own hue, spread over the device's range and visited out of order (a stride coprime with the
 * number of hues) so that cycles close in the graph are far apart in hue.
 */
export function deviceShade(device: DeviceName, ordinal: number, count = ordinal + 1): string {
  if (device === 'USER') return 'hsl(140, 62%, 40%)';
  const n = Math.max(1, count, ordinal + 1);
  const levels = Math.min(LIGHTNESS.length, n);
  const hues = Math.ceil(n / levels);
  const cycle = Math.floor(ordinal / levels);
  const stride = coprimeStride(hues);
  const [lo, hi] = HUE_RANGE[device];
  const h = lo + ((hi - lo) * (((cycle * stride) % hues) + 0.5)) / hues;
  const sat = device === 'CPU' ? 80 : cycle % 2 ? 72 : 58;
  return `hsl(${+h.toFixed(2)}, ${sat}%, ${LIGHTNESS[ordinal % levels]}%)`;
}

/** A step near 0.4·n with gcd(step, n) = 1: it visits every hue once, jumping across the range. */
function coprimeStride(n: number): number {
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  for (let s = Math.max(1, Math.round(n * 0.4)); s < n; s++) if (gcd(s, n) === 1) return s;
  return 1;
}

/** Colour per subgraph index: the n-th subgraph of a device gets that device's n-th shade, distinct from all others. */
export function subgraphColors(devices: readonly (string | undefined)[]): string[] {
  const total: Record<DeviceName, number> = { DPU: 0, CPU: 0, USER: 0 };
  for (const d of devices) { const dev = deviceOf(d); if (dev) total[dev]++; }
  const seen: Record<DeviceName, number> = { DPU: 0, CPU: 0, USER: 0 };
  return devices.map((d) => {
    const dev = deviceOf(d);
    return dev ? deviceShade(dev, seen[dev]++, total[dev]) : UNPLACED_COLOR;
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
