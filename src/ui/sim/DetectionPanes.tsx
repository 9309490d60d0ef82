// The detection demo: YOLOX boxes, or RetinaFace faces with their five landmarks, of the float model and
// of the int8 simulation drawn over the input photo in two panes, with a score threshold. Decoding ran in the simulation worker; here boxes are only
// mapped back to the photo (the Calibrate step's resize) and drawn, a few dozen rectangles per pane.
import { useEffect, useMemo, useRef, useState } from 'react';
import { labelFor } from '../../core/demo/labels';
import { toImageBoxes, type Detection } from '../../core/demo/yolox';
import { set, useStore } from '../store';
import { useShippedLabels } from './labels';

const WIDTH = 216;
const LANDMARK_COLOURS = ['#e11', '#ee0', '#e0e', '#1c1', '#18f'];
const FACE = ['face'];

function hue(c: number): string {
  return `hsl(${(c * 47) % 360}, 80%, 45%)`;
}

function Pane({ title, dets, bitmap, testid, labels }: { title: string; dets: readonly Detection[]; bitmap: ImageBitmap; testid: string; labels: readonly string[] | undefined }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const k = WIDTH / bitmap.width;
  const height = Math.round(bitmap.height * k);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    ctx.drawImage(bitmap, 0, 0, WIDTH, height);
    ctx.font = '10px sans-serif';
    ctx.lineWidth = 2;
    for (const d of dets) {
      const [x1, y1, x2, y2] = d.box.map((v) => v * k);
      ctx.strokeStyle = ctx.fillStyle = hue(d.classId);
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      const text = `${labelFor(d.classId, labels)} ${d.score.toFixed(2)}`;
      const w = ctx.measureText(text).width + 4;
      const ty = y1 >= 12 ? y1 - 12 : y1;
      ctx.fillRect(x1, ty, w, 12);
      ctx.fillStyle = '#fff';
      ctx.fillText(text, x1 + 2, ty + 10);
      // Landmarks: eyes, nose, mouth corners, each its own colour (as upstream draws them).
      d.landmarks?.forEach(([x, y], i) => {
        ctx.fillStyle = LANDMARK_COLOURS[i % LANDMARK_COLOURS.length];
        ctx.beginPath();
        ctx.arc(x * k, y * k, 2.5, 0, 2 * Math.PI);
        ctx.fill();
      });
    }
  }, [bitmap, dets, height, k, labels]);
  return (
    <div>
      <div className="small muted">{title}</div>
      <canvas ref={ref} width={WIDTH} height={height} className="sim-canvas" />
      <ul className="sim-dets small" data-testid={testid}>
        {dets.map((d, i) => <li key={i}><span className="sim-swatch" style={{ background: hue(d.classId) }} />{labelFor(d.classId, labels)} {d.score.toFixed(2)}</li>)}
        {dets.length === 0 && <li className="muted">no box above the threshold</li>}
      </ul>
    </div>
  );
}

export function DetectionPanes() {
  const det = useStore((s) => s.simDetections);
  const image = useStore((s) => s.simImage);
  const score = useStore((s) => s.simScore);
  const shipped = useShippedLabels();
  const [bitmap, setBitmap] = useState<ImageBitmap | null>(null);
  useEffect(() => {
    let live = true;
    setBitmap(null);
    // Decoded by the browser off the main thread.
    if (image) void createImageBitmap(new Blob([image.bytes as BlobPart])).then((b) => { if (live) setBitmap(b); });
    return () => { live = false; };
  }, [image]);
  const mapped = useMemo(() => {
    if (!det || !bitmap || !image) return undefined;
    const p = { imageW: bitmap.width, imageH: bitmap.height, inputW: det.inputW, inputH: det.inputH, resize: image.resize };
    const keep = (d: readonly Detection[]) => toImageBoxes(d.filter((x) => x.score >= score), p);
    return { float: keep(det.float), int8: keep(det.int8) };
  }, [det, bitmap, image, score]);
  if (!det) return null;
  const labels = det.kind === 'retinaface' ? FACE : shipped;
  return (
    <section data-testid="sim-detections" data-kind={det.kind}>
      <h4>{det.kind === 'retinaface' ? 'Faces (RetinaFace decode: priors, five landmarks, NMS)' : 'Detections (YOLOX decode, NMS per class)'}</h4>
      <label className="small">score ≥ <input
        type="range" min={0.05} max={0.95} step={0.05} value={score} data-testid="sim-score"
        onChange={(e) => set({ simScore: Number(e.target.value) })}
      /> {score.toFixed(2)}</label>
      {!image && <div className="small muted">boxes are drawn over a photo input (pick one above)</div>}
      {mapped && bitmap && (
        <div className="sim-top">
          <Pane title="float" dets={mapped.float} bitmap={bitmap} testid="det-float" labels={labels} />
          <Pane title="int8 (DPU simulation)" dets={mapped.int8} bitmap={bitmap} testid="det-int8" labels={labels} />
        </div>
      )}
    </section>
  );
}
