// Evaluate: a labelled set (the shipped Fashion-MNIST one, or the user's .npy pair or folder per class)
// through float and int8 with progress and Cancel; accuracy of each, both confusion matrices, and the
// samples where the two disagree (a click runs one as the demo input).
import { useMemo, useRef } from 'react';
import { accuracy, confusion } from '../../core/demo/classify';
import { set, useStore } from '../store';
import { cancelEvaluation, classifierClasses, EVAL_SETS, loadLabelledSet, runEvaluation, runSimulation, setSimSource } from './actions';
import { labelledDrop, pickedFiles, readPathed, type PathedFile } from './labelledDrop';

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function Matrix({ m, testid, classes }: { m: number[][]; testid: string; classes: readonly string[] }) {
  const max = Math.max(1, ...m.flat());
  return (
    <table className="sim-matrix" data-testid={testid}>
      <thead><tr><th title="true ↓ / predicted →">↓→</th>{m.map((_, j) => <th key={j} title={classes[j]}>{j}</th>)}</tr></thead>
      <tbody>{m.map((row, i) => (
        <tr key={i}><th title={classes[i]}>{i}</th>{row.map((v, j) => (
          <td key={j} title={`true ${classes[i]}, predicted ${classes[j]}: ${v}`} style={{ background: v ? `hsla(${i === j ? 140 : 0}, 60%, 45%, ${0.15 + 0.85 * v / max})` : undefined }}>{v || ''}</td>
        ))}</tr>
      ))}</tbody>
    </table>
  );
}

function load(files: readonly PathedFile[], folders?: string[]): void {
  readPathed(files).then((fs) => loadLabelledSet(fs, folders), (e: unknown) => set({ simEvalSetError: `cannot read the files: ${e instanceof Error ? e.message : String(e)}` }));
}

/** The user's set: pick or drop two .npy or a folder per class; its mapping and preprocessing shown. */
function UserSet() {
  const info = useStore((s) => s.simEvalSet);
  const error = useStore((s) => s.simEvalSetError);
  const files = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement>(null);
  return (
    <div
      className="sim-drop" data-testid="eval-set-drop"
      onDragOver={(e) => { e.preventDefault(); e.stopPropagation(); }}
      onDrop={(e) => {
        e.preventDefault();
        e.stopPropagation();
        labelledDrop(e.dataTransfer.items, e.dataTransfer.files).then(({ files: fs, folders }) => load(fs, folders), (err: unknown) => set({ simEvalSetError: `cannot read the drop: ${err instanceof Error ? err.message : String(err)}` }));
      }}
    >
      Your labelled set: an images <code>.npy</code> with a labels <code>.npy</code>, or a folder per class (<code>class_name/xxx.png</code>)
      {' '}<button onClick={() => files.current?.click()}>Files…</button> <button onClick={() => folder.current?.click()}>Folder…</button>
      <input ref={files} type="file" multiple accept=".npy" hidden data-testid="eval-set-files" onChange={(e) => { load(pickedFiles(e.target.files)); e.target.value = ''; }} />
      <input ref={folder} type="file" hidden {...{ webkitdirectory: '' }} data-testid="eval-set-folder" onChange={(e) => { load(pickedFiles(e.target.files)); e.target.value = ''; }} />
      {error && <div className="panel-error" role="alert" data-testid="eval-set-error">{error}</div>}
      {info && (
        <div className="small" data-testid="eval-set-info">
          <b>{info.title}</b>: {info.samples} samples · preprocessing: <span data-testid="eval-set-preprocess">{info.preprocess}</span>
          {info.folders && (
            <div data-testid="eval-set-mapping">
              classes {info.byLabelFile ? "by the model's label file" : 'by sorted folder name'}:{' '}
              {info.folders.map((f) => `${f.name} → ${f.index} (${f.files})`).join(', ')}
            </div>
          )}
        </div>
      )}
    </div>
  );
}

export function EvaluateSection() {
  const fileName = useStore((s) => s.model?.info.fileName ?? '');
  const ev = useStore((s) => s.simEval);
  const busy = useStore((s) => s.simRun.state === 'running');
  const userInfo = useStore((s) => s.simEvalSet);
  const use = useStore((s) => s.simEvalUse);
  // Re-read with the model: the output shape decides whether this is a classifier at all.
  const classes = useStore((s) => classifierClasses(s.model));
  const shipped = EVAL_SETS[fileName];
  const result = useMemo(() => {
    if (!ev || ev.int8.length === 0) return undefined;
    const n = ev.int8.length;
    const truth = ev.labels.slice(0, n);
    const k = ev.classes.length;
    const hasFloat = ev.float.every((p) => p >= 0);
    const cq = confusion(truth, ev.int8, k);
    const cf = hasFloat ? confusion(truth, ev.float, k) : undefined;
    const disagree = hasFloat ? ev.int8.flatMap((p, i) => (p !== ev.float[i] ? [i] : [])) : [];
    return { n, cq, cf, disagree };
  }, [ev]);
  if (!shipped && classes === undefined) return null;
  const running = ev?.state === 'running';
  const show = (i: number) => { set({ simEvalUse: ev!.source }); setSimSource('eval', i); void runSimulation(); };
  const active = use === 'user' && userInfo ? userInfo.title : shipped ? 'Fashion-MNIST evaluation set (1000)' : undefined;
  const setClasses = ev?.classes ?? [];
  return (
    <section data-testid="sim-evaluate">
      <h4>Evaluate{active ? `: ${active}` : ' a labelled set'}</h4>
      {classes !== undefined && <UserSet />}
      <div className="sim-row">
        {shipped && userInfo && (
          <select data-testid="eval-use" value={use} onChange={(e) => set({ simEvalUse: e.target.value as 'shipped' | 'user' })}>
            <option value="shipped">Fashion-MNIST evaluation set (1000)</option>
            <option value="user">{userInfo.title}</option>
          </select>
        )}
        <button disabled={busy || !active} onClick={() => void runEvaluation()} data-testid="run-eval">Evaluate float and int8</button>
        <button disabled={!running} onClick={cancelEvaluation} data-testid="cancel-eval">Cancel</button>
        {ev && <span className="small muted" data-testid="eval-progress">{ev.int8.length} / {ev.total}{ev.state === 'cancelled' ? ' (cancelled)' : ev.state === 'done' ? ' done' : ''}</span>}
        {running && <progress max={ev.total} value={ev.int8.length} />}
      </div>
      {ev?.state === 'error' && <div className="panel-error" role="alert" data-testid="eval-error">{ev.message}</div>}
      {result && (
        <>
          <div className="small" data-testid="eval-accuracy">
            float top-1 <b data-testid="eval-float-acc">{result.cf ? pct(accuracy(result.cf)) : '—'}</b> · int8 top-1 <b data-testid="eval-int8-acc">{pct(accuracy(result.cq))}</b> on {result.n} samples of {ev!.title}
          </div>
          <div className="sim-top">
            {result.cf && <div><div className="small muted">float confusion</div><Matrix m={result.cf} testid="confusion-float" classes={setClasses} /></div>}
            <div><div className="small muted">int8 confusion</div><Matrix m={result.cq} testid="confusion-int8" classes={setClasses} /></div>
          </div>
          <div className="small" data-testid="eval-disagree">
            {result.disagree.length} sample(s) where float and int8 disagree{result.disagree.length ? ':' : ''}
            <div className="sim-demo-inputs">{result.disagree.slice(0, 60).map((i) => (
              <button key={i} data-testid="eval-disagree-item" title={`true ${setClasses[ev!.labels[i]]}: float ${setClasses[ev!.float[i]]}, int8 ${setClasses[ev!.int8[i]]} — run it`} onClick={() => show(i)}>
                #{i} {ev!.float[i]}→{ev!.int8[i]}
              </button>
            ))}</div>
          </div>
        </>
      )}
    </section>
  );
}
