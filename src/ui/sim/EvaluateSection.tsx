// Evaluate: the shipped labelled set through float and int8 with progress and Cancel; accuracy of each,
// both confusion matrices, and the samples where the two disagree (a click runs one as the demo input).
import { useMemo } from 'react';
import { accuracy, confusion } from '../../core/demo/classify';
import { get, useStore } from '../store';
import { cancelEvaluation, EVAL_SETS, runEvaluation, runSimulation, setSimSource } from './actions';

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

export function EvaluateSection() {
  const fileName = useStore((s) => s.model?.info.fileName ?? '');
  const ev = useStore((s) => s.simEval);
  const busy = useStore((s) => s.simRun.state === 'running');
  const set = EVAL_SETS[fileName];
  const result = useMemo(() => {
    if (!ev || !set || ev.int8.length === 0) return undefined;
    const n = ev.int8.length;
    const truth = ev.labels.slice(0, n);
    const k = set.classes.length;
    const hasFloat = ev.float.every((p) => p >= 0);
    const cq = confusion(truth, ev.int8, k);
    const cf = hasFloat ? confusion(truth, ev.float, k) : undefined;
    const disagree = hasFloat ? ev.int8.flatMap((p, i) => (p !== ev.float[i] ? [i] : [])) : [];
    return { n, cq, cf, disagree };
  }, [ev, set]);
  if (!set) return null;
  const running = ev?.state === 'running';
  const show = (i: number) => { setSimSource('eval', i); void runSimulation(); };
  return (
    <section data-testid="sim-evaluate">
      <h4>Evaluate: Fashion-MNIST evaluation set ({EVAL_SETS[fileName] ? 1000 : 0})</h4>
      <div className="sim-row">
        <button disabled={busy} onClick={() => void runEvaluation()} data-testid="run-eval">Evaluate float and int8</button>
        <button disabled={!running} onClick={cancelEvaluation} data-testid="cancel-eval">Cancel</button>
        {ev && <span className="small muted" data-testid="eval-progress">{ev.int8.length} / {ev.total}{ev.state === 'cancelled' ? ' (cancelled)' : ev.state === 'done' ? ' done' : ''}</span>}
        {running && <progress max={ev.total} value={ev.int8.length} />}
      </div>
      {ev?.state === 'error' && <div className="panel-error" role="alert">{ev.message}</div>}
      {result && (
        <>
          <div className="small" data-testid="eval-accuracy">
            float top-1 <b data-testid="eval-float-acc">{result.cf ? pct(accuracy(result.cf)) : '—'}</b> · int8 top-1 <b data-testid="eval-int8-acc">{pct(accuracy(result.cq))}</b> on {result.n} samples
          </div>
          <div className="sim-top">
            {result.cf && <div><div className="small muted">float confusion</div><Matrix m={result.cf} testid="confusion-float" classes={set.classes} /></div>}
            <div><div className="small muted">int8 confusion</div><Matrix m={result.cq} testid="confusion-int8" classes={set.classes} /></div>
          </div>
          <div className="small" data-testid="eval-disagree">
            {result.disagree.length} sample(s) where float and int8 disagree{result.disagree.length ? ':' : ''}
            <div className="sim-demo-inputs">{result.disagree.slice(0, 60).map((i) => (
              <button key={i} data-testid="eval-disagree-item" title={`true ${set.classes[get().simEval!.labels[i]]}: float ${set.classes[ev!.float[i]]}, int8 ${set.classes[ev!.int8[i]]} — run it`} onClick={() => show(i)}>
                #{i} {ev!.float[i]}→{ev!.int8[i]}
              </button>
            ))}</div>
          </div>
        </>
      )}
    </section>
  );
}
