import { useEffect, useRef, useState } from 'react';
import { ErrorBanner, ErrorBoundary, Legend, Progress } from './chrome';
import { Gallery } from './Gallery';
import { ProjectNotice } from './project/Projects';
import { GraphView } from './graph/GraphView';
import { WarmUp } from './graph/WarmUp';
import { Search } from './panels/Search';
import { SidePanel } from './panels/SidePanel';
import { SummaryDialog } from './panels/SummaryDialog';
import { modelWorker, openFile, prepare, setShowFix } from './session';
import { get, requestFit, set, useStore } from './store';
import { download } from './compile/actions';
import { PipelineBar } from './pipeline/PipelineBar';
import { StepPanel } from './pipeline/StepPanel';
import { SqnrLegend } from './quant/badges';
import './quant/register';
import './compile/register';
import './sim/register';
import { DeviceLegend } from './compile/CompilePanel';
import { SimLegend } from './sim/SimPaint';
import { LegendUnfold, useLegendFolded } from './legendToggle';

/** Esc closes one thing at a time, the one drawn on top first: a dialog, then the side panel, then the step panel. */
function closeTopmost(): void {
  const s = get();
  if (s.summaryOpen || s.searchOpen) set({ searchOpen: false, summaryOpen: false });
  else if (s.selectedId !== null) set({ selectedId: null });
  else if (s.activeStep !== null) set({ activeStep: null });
}

function useShortcuts(search: React.RefObject<HTMLDivElement | null>) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement;
      const focusSearch = () => {
        e.preventDefault();
        set({ searchOpen: true });
        const input = search.current?.querySelector('input');
        input?.focus();
        // The previous query is selected, so typing replaces it and Enter repeats it.
        input?.select();
      };
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f') return focusSearch();
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '/') focusSearch();
      else if (e.key === 'f') requestFit();
      else if (e.key === 'Escape') closeTopmost();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [search]);
}

/** Files dropped anywhere on the page open; the overlay says so while dragging. */
function useDrop(): boolean {
  const [over, setOver] = useState(false);
  useEffect(() => {
    let depth = 0;
    const hasFiles = (e: DragEvent) => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');
    const enter = (e: DragEvent) => { if (hasFiles(e)) { depth++; setOver(true); } };
    const leave = () => { if (--depth <= 0) { depth = 0; setOver(false); } };
    const over = (e: DragEvent) => e.preventDefault();
    const drop = (e: DragEvent) => {
      e.preventDefault();
      depth = 0;
      setOver(false);
      const f = e.dataTransfer?.files[0];
      if (f) void openFile(f);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, []);
  return over;
}

/** Formats imported into an ONNX graph, which can be saved as one. */
const IMPORTED = new Set(['tflite', 'keras-h5', 'keras']);

async function downloadFloatOnnx(): Promise<void> {
  const w = modelWorker();
  const m = get().model;
  if (!w || !m) return;
  try {
    const bytes = await w.floatOnnx();
    download(m.info.fileName.replace(/\.[^.]+$/, '') + '.onnx', new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  } catch (e) {
    set({ error: `${m.info.fileName}: could not write ONNX (${e instanceof Error ? e.message : String(e)})` });
  }
}

function TopBar({ search }: { search: React.RefObject<HTMLDivElement | null> }) {
  const model = useStore((s) => s.model);
  const picker = useRef<HTMLInputElement>(null);
  return (
    <header className="topbar">
      <div className="brand">Fixpoint Studio</div>
      <button onClick={() => picker.current?.click()} data-testid="open-file">Open…</button>
      <input
        ref={picker} type="file" accept=".onnx,.xmodel,.tflite,.h5,.hdf5,.keras" hidden data-testid="file-input"
        onChange={(e) => { const f = e.target.files?.[0]; if (f) void openFile(f); e.target.value = ''; }}
      />
      <button onClick={() => set({ galleryOpen: true })} data-testid="open-gallery">Samples</button>
      {model && (
        <>
          <span className="file-name mono" data-testid="model-name" title={model.info.fileName}>{model.info.fileName}</span>
          <span className="muted small" data-testid="model-meta">{model.info.opCount} ops · {model.info.format === 'xmodel' ? 'xmodel · XIR' : `opset ${model.info.opset}`}</span>
          {!!model.graph.fixOps && (
            <label className="small" style={{ whiteSpace: 'nowrap' }} title="XIR fix ops: folded into the edges they quantize (fp=N), or drawn as nodes" data-testid="toggle-fix">
              <input type="checkbox" checked={!!model.showFix} onChange={(e) => void setShowFix(e.target.checked)} /> fix ops
            </label>
          )}
          <button onClick={() => set({ summaryOpen: true })} data-testid="open-summary">Summary</button>
          {IMPORTED.has(model.info.format) && (
            <button onClick={() => void downloadFloatOnnx()} data-testid="save-onnx" title="The imported graph as a float ONNX model">Save as ONNX</button>
          )}
        </>
      )}
      <PipelineBar />
      {/* Nothing to search before a model is open; the ref stays so `/` finds it once there is. */}
      <div ref={search} className="topbar-search" hidden={!model}><Search /></div>
    </header>
  );
}

export function App() {
  const model = useStore((s) => s.model);
  const galleryOpen = useStore((s) => s.galleryOpen);
  const summaryOpen = useStore((s) => s.summaryOpen);
  const colorMode = useStore((s) => s.colorMode);
  const legendFolded = useLegendFolded((s) => s.folded);
  const busy = useStore((s) => !!s.busy);
  const pendingCanvas = useStore((s) => s.pendingCanvas);
  const canvasId = model ? model.openId : pendingCanvas;
  const search = useRef<HTMLDivElement>(null);
  const dragging = useDrop();
  useShortcuts(search);
  useEffect(prepare, []);
  return (
    <div className="app">
      <TopBar search={search} />
      <ErrorBanner />
      <ProjectNotice />
      <main className="workspace">
        <ErrorBoundary>
          {model && !galleryOpen && <StepPanel />}
          {/* The step panel and the side panel are columns beside this area, so fitting and centring
              (and the legends) use the part of the screen the graph really has. */}
          <div className="graph-area">
            {canvasId !== null && <GraphView model={model} canvasId={canvasId} />}
            {model && !galleryOpen && (legendFolded ? <LegendUnfold /> : colorMode === 'sqnr' ? <SqnrLegend /> : colorMode === 'device' ? <DeviceLegend /> : colorMode === 'sim' ? <SimLegend /> : <Legend />)}
          </div>
          {(galleryOpen || !model) && <Gallery onClose={model ? () => set({ galleryOpen: false }) : undefined} />}
          {!model && !busy && <WarmUp />}
        </ErrorBoundary>
        <ErrorBoundary>{model && !galleryOpen && <SidePanel />}</ErrorBoundary>
        <Progress />
      </main>
      {summaryOpen && model && <ErrorBoundary><SummaryDialog /></ErrorBoundary>}
      {dragging && <div className="drop-overlay">Drop a model (.onnx, .xmodel, .tflite, Keras .h5 or .keras) to open it</div>}
    </div>
  );
}
