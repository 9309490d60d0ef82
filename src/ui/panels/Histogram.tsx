// Weight histogram drawn with uPlot as bars over [min, max].
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatCount } from '../../core/view/attrs';

export function Histogram({ counts, min, max, width = 300, height = 120 }: { counts: readonly number[]; min: number; max: number; width?: number; height?: number }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current || counts.length === 0) return;
    const step = (max - min) / counts.length || 1;
    const xs = counts.map((_, i) => min + (i + 0.5) * step);
    const plot = new uPlot(
      {
        width, height, legend: { show: false }, cursor: { show: false }, select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        scales: { x: { time: false, range: [min, max === min ? min + 1 : max] }, y: { range: (_u, _lo, hi) => [0, hi || 1] } },
        axes: [
          { size: 24, font: '10px system-ui', ticks: { size: 3 }, grid: { show: false } },
          { size: 36, font: '10px system-ui', ticks: { size: 3 }, grid: { stroke: '#eee' }, values: (_u, splits) => splits.map(formatCount) },
        ],
        series: [{}, { fill: '#5b7fb8', stroke: '#335588', width: 0, paths: uPlot.paths.bars!({ size: [1, Infinity], gap: 0 }), points: { show: false } }],
      },
      [xs, [...counts]],
      el.current,
    );
    return () => plot.destroy();
  }, [counts, min, max, width, height]);
  return <div ref={el} className="histogram" data-testid="histogram" />;
}
