// Sample models shipped in public/models, described by samples.json.
import { useEffect, useState } from 'react';
import { openUrl } from './session';
import { Projects } from './project/Projects';

export interface Sample {
  readonly file: string;
  readonly title: string;
  readonly description: string;
  readonly source: string;
  readonly license: string;
  /** Shown as a badge: what the sample is the showcase of. */
  readonly highlight?: string;
}

const base = `${import.meta.env.BASE_URL}models/`;

export function Gallery({ onClose }: { onClose?: () => void }) {
  const [samples, setSamples] = useState<Sample[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    fetch(`${base}samples.json`)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((s: Sample[]) => setSamples(s), (e: Error) => setError(`could not load the sample list (${e.message})`));
  }, []);
  return (
    <div className="gallery" data-testid="gallery">
      <div className="gallery-head">
        <div>
          <p className="gallery-pitch" data-testid="gallery-pitch">
            Takes a trained network to an INT8 Xilinx DPU in the browser, with nothing installed and nothing uploaded:
          </p>
          <ol className="gallery-steps" data-testid="gallery-steps">
            <li><b>Open</b> an ONNX, TFLite, Keras or .xmodel file and explore its graph</li>
            <li><b>Calibrate</b> on your own images</li>
            <li><b>Quantize</b> to power-of-two fix points and see where the accuracy goes</li>
            <li><b>Compile</b> into DPU and CPU subgraphs, then simulate and deploy</li>
          </ol>
          <h2>Open a model</h2>
          <p className="muted">Drop an <code>.onnx</code>, <code>.xmodel</code>, <code>.tflite</code> or Keras <code>.h5</code>/<code>.keras</code> file anywhere, use <b>Open…</b>, or pick a sample.</p>
        </div>
        {onClose && <button onClick={onClose} data-testid="gallery-close">Back to graph</button>}
      </div>
      <Projects />
      {error && <div className="banner">{error}</div>}
      <div className="cards">
        {samples?.map((s) => (
          <button key={s.file} className={`card${s.highlight ? ' card-featured' : ''}`} data-testid="sample" data-file={s.file} onClick={() => void openUrl(base + s.file, s.file)}>
            <div className="card-title">{s.title}</div>
            {s.highlight && <div className="card-highlight" data-testid="sample-highlight">{s.highlight}</div>}
            <div className="card-desc">{s.description}</div>
            <div className="card-meta muted">{s.file} · {s.license} · {s.source}</div>
          </button>
        ))}
      </div>
    </div>
  );
}
