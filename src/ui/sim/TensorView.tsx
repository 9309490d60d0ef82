// The tensor view: fix point and range, float and int8 histograms on one axis with the int8 clipping
// edges, the channel grid (float, int8, |difference| heat map) with the values under the cursor, and
// the positions where fake-quant differs from the DPU, highlighted over the difference grid.
import { useEffect, useRef, useState } from 'react';
import { readAt, type Readout, type TensorView as View } from '../../core/demo/tensorview';
import { set, useStore } from '../store';
import { showTensor } from './actions';

const SCALE = 3;

function Grid({ pixels, overlay, v, title, testid, onHover }: {
  pixels: Uint8ClampedArray; overlay?: Uint8ClampedArray; v: View; title: string; testid: string; onHover: (at: Readout | undefined) => void;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  const top = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (ctx) ctx.putImageData(new ImageData(new Uint8ClampedArray(pixels), v.width, v.height), 0, 0);
    const o = top.current?.getContext('2d');
    if (o && overlay) o.putImageData(new ImageData(new Uint8ClampedArray(overlay), v.width, v.height), 0, 0);
  }, [pixels, overlay, v]);
  const hover = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    onHover(readAt(v, Math.floor((e.clientX - r.left) * v.width / r.width), Math.floor((e.clientY - r.top) * v.height / r.height)));
  };
  const style = { width: Math.min(v.width * SCALE, 440) };
  return (
    <div>
      <div className="small muted">{title}</div>
      <div className="sim-grid-stack">
        <canvas ref={ref} width={v.width} height={v.height} data-testid={testid} className="sim-grid" style={style} onMouseMove={hover} onMouseLeave={() => onHover(undefined)} />
        {/* Above the grid but transparent to the pointer, so the readout keeps working. */}
        {overlay && <canvas ref={top} width={v.width} height={v.height} data-testid={`${testid}-overlay`} className="sim-grid sim-grid-overlay" style={style} />}
      </div>
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

/** An exponent with a real minus sign: 2^−3, 2^1. */
const pow = (e: number) => (e < 0 ? `−${-e}` : String(e));
const val = (x: number) => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(4) : x.toPrecision(6));

/** The values at the cursor: float, int8 code at its fix point, the dequantized value, fake-quant's code. */
function ReadoutLine({ at, v }: { at: Readout | undefined; v: View }) {
  if (!at) return <div className="small muted sim-readout" data-testid="tensor-readout">move the cursor over a grid for the values there</div>;
  return (
    <div className="small mono sim-readout" data-testid="tensor-readout">
      c {at.channel}, y {at.y}, x {at.x}: float {at.float === undefined ? '—' : val(at.float)}
      {' · '}int8 {at.code} × 2<sup>{pow(-at.fixPoint)}</sup> (fp {at.fixPoint}) = {val(at.dequantized)}
      {at.other !== undefined && v.differ && <span className={at.other !== at.code ? 'sim-bad' : undefined}> · {v.differ.against} {at.other}</span>}
    </div>
  );
}

function Differences({ v }: { v: View }) {
  const d = v.differ;
  if (!d) return null;
  return (
    <div className="small" data-testid="tensor-differ">
      <span className={d.count ? 'sim-bad' : 'sim-ok'} data-testid="tensor-differ-count">
        {d.count === 0 ? `0 positions differ between the DPU and ${d.against}` : `${d.count} of ${d.total} positions differ between the DPU and ${d.against} (max ${d.maxLsb} LSB)`}
      </span>
      {d.count > 0 && <span className="muted"> · highlighted in blue on the {v.diff ? 'difference' : 'int8'} grid; first: {d.positions.map(([c, y, x]) => `(${c}, ${y}, ${x})`).join(' ')}{d.count > d.positions.length ? ' …' : ''}</span>}
    </div>
  );
}

export function TensorViewPanel() {
  const v = useStore((s) => s.simTensor);
  const compare = useStore((s) => s.simCompare);
  const [at, setAt] = useState<Readout | undefined>();
  const root = useRef<HTMLElement>(null);
  // Opened from the graph, the view may be below the fold of the panel: bring it up.
  useEffect(() => {
    setAt(undefined);
    if (v) root.current?.scrollIntoView?.({ block: 'nearest' });
  }, [v]);
  const error = useStore((s) => s.simTensorError);
  if (!v) return error ? <div className="small panel-error" role="alert" data-testid="tensor-error">{error}</div> : null;
  return (
    <section data-testid="tensor-view" ref={root}>
      <h4>Tensor <span className="mono" data-testid="tensor-name">{v.name}</span> <button className="link" onClick={() => set({ simTensor: null })}>close</button></h4>
      <div className="small">
        ⟨{v.shape.join('×')}⟩ · fix point {v.fixPoint} (step 2<sup>{pow(-v.fixPoint)}</sup>) · int8 range [{v.clip[0]}, {v.clip[1]}]
        {v.float ? ` · max |float − int8| ${v.maxDiff.toPrecision(3)}` : ' · no float reference'}
      </div>
      <div className="small muted">histograms (log count): <span className="sw h-float" /> float <span className="sw h-int8" /> int8 dequantized, red lines: clipping edges</div>
      <Histogram v={v} />
      <label className="small">Compare the DPU's codes with{' '}
        <select data-testid="tensor-compare" value={compare} onChange={(e) => { set({ simCompare: e.target.value as typeof compare }); void showTensor(v.name); }}>
          <option value="fake-quant">the tool's fake-quant run (bit-exact reference)</option>
          <option value="onnxruntime">onnxruntime on the QDQ model (ties to even)</option>
        </select>
      </label>
      <Differences v={v} />
      <div className="small muted" data-testid="tensor-channels">{v.channels} of {v.totalChannels} channel(s), {v.tileH}×{v.tileW} each</div>
      <ReadoutLine at={at} v={v} />
      <div className="sim-grids">
        {v.float && <Grid pixels={v.float} v={v} title="float" testid="grid-float" onHover={setAt} />}
        {/* Without a float reference there is no difference grid: the int8 grid carries the highlight. */}
        <Grid pixels={v.int8} overlay={v.diff ? undefined : v.differ?.overlay} v={v} title="int8" testid="grid-int8" onHover={setAt} />
        {v.diff && <Grid pixels={v.diff} overlay={v.differ?.overlay} v={v} title={`|float − int8|${v.differ ? `, blue: differs from ${v.differ.against}` : ''}`} testid="grid-diff" onHover={setAt} />}
      </div>
    </section>
  );
}
