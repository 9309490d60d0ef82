// The tensor view: fix point and range, float and int8 histograms on one axis with the int8 clipping
// edges, and the channel grid (float, int8, |difference| heat map) with the value under the cursor.
import { useEffect, useRef, useState } from 'react';
import type { TensorView as View } from '../../core/demo/tensorview';
import { set, useStore } from '../store';

const SCALE = 3;

function Grid({ pixels, v, title, testid, onHover }: { pixels: Uint8ClampedArray; v: View; title: string; testid: string; onHover: (at: string) => void }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (ctx) ctx.putImageData(new ImageData(new Uint8ClampedArray(pixels), v.width, v.height), 0, 0);
  }, [pixels, v]);
  const hover = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const px = Math.floor((e.clientX - r.left) * v.width / r.width);
    const py = Math.floor((e.clientY - r.top) * v.height / r.height);
    const c = Math.floor(py / (v.tileH + 1)) * v.cols + Math.floor(px / (v.tileW + 1));
    const x = px % (v.tileW + 1);
    const y = py % (v.tileH + 1);
    if (c < v.channels && x < v.tileW && y < v.tileH) onHover(`channel ${c}, y ${y}, x ${x}`);
  };
  return (
    <div>
      <div className="small muted">{title}</div>
      <canvas ref={ref} width={v.width} height={v.height} data-testid={testid} className="sim-grid" style={{ width: Math.min(v.width * SCALE, 440) }} onMouseMove={hover} />
    </div>
  );
}

function Histogram({ v }: { v: View }) {
  const W = 440;
  const H = 90;
  const { lo, hi } = v.hist;
  const max = Math.max(1, ...v.hist.int8, ...(v.hist.float ?? []));
  const xOf = (x: number) => ((x - lo) / (hi - lo || 1)) * W;
  const bars = (h: readonly number[], cls: string) => h.map((c, i) => {
    const bh = (Math.log1p(c) / Math.log1p(max)) * (H - 12);
    return <rect key={`${cls}${i}`} className={cls} x={(i * W) / h.length} width={W / h.length} y={H - 12 - bh} height={bh} />;
  });
  return (
    <svg width={W} height={H} className="sim-hist" data-testid="tensor-hist">
      {v.hist.float && bars(v.hist.float, 'h-float')}
      {bars(v.hist.int8, 'h-int8')}
      {v.clip.map((c, i) => <line key={i} x1={xOf(c)} x2={xOf(c)} y1={0} y2={H - 12} className="h-clip" />)}
      <text x={0} y={H - 1}>{lo.toPrecision(3)}</text>
      <text x={W} y={H - 1} textAnchor="end">{hi.toPrecision(3)}</text>
    </svg>
  );
}

export function TensorViewPanel() {
  const v = useStore((s) => s.simTensor);
  const [at, setAt] = useState('');
  if (!v) return null;
  return (
    <section data-testid="tensor-view">
      <h4>Tensor <span className="mono">{v.name}</span> <button className="link" onClick={() => set({ simTensor: null })}>close</button></h4>
      <div className="small">
        ⟨{v.shape.join('×')}⟩ · fix point {v.fixPoint} (step 2<sup>−{v.fixPoint}</sup>) · int8 range [{v.clip[0]}, {v.clip[1]}]
        {v.float ? ` · max |float − int8| ${v.maxDiff.toPrecision(3)}` : ' · no float reference'}
      </div>
      <div className="small muted">histograms (log count): <span className="sw h-float" /> float <span className="sw h-int8" /> int8 dequantized, red lines: clipping edges</div>
      <Histogram v={v} />
      <div className="small muted" data-testid="tensor-channels">{v.channels} of {v.totalChannels} channel(s), {v.tileH}×{v.tileW} each{at ? ` · ${at}` : ''}</div>
      <div className="sim-grids">
        {v.float && <Grid pixels={v.float} v={v} title="float" testid="grid-float" onHover={setAt} />}
        <Grid pixels={v.int8} v={v} title="int8" testid="grid-int8" onHover={setAt} />
        {v.diff && <Grid pixels={v.diff} v={v} title="|float − int8|" testid="grid-diff" onHover={setAt} />}
      </div>
    </section>
  );
}
