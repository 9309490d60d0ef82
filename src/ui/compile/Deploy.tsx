// The generated deployment code (VART, pynq_dpu) and the downloads: compiled .xmodel and per-layer costs.
import { useState } from 'react';
import { useStore } from '../store';
import { downloadArchJson, downloadCostTable, downloadIntXModel, downloadStandin, downloadXModel } from './actions';

const TABS = [{ id: 'vart', label: 'VART' }, { id: 'pynq', label: 'pynq_dpu' }] as const;

export function Deploy() {
  const d = useStore((s) => s.deployment);
  const [tab, setTab] = useState<(typeof TABS)[number]['id']>('vart');
  const [copied, setCopied] = useState(false);
  if (!d) return null;
  const code = tab === 'vart' ? d.vart : d.pynq;
  const copy = () => {
    void navigator.clipboard?.writeText(code).then(() => { setCopied(true); setTimeout(() => setCopied(false), 1500); }, () => undefined);
  };
  return (
    <section data-testid="deploy">
      <h4>Deploy</h4>
      <div className="cp-limit small" data-testid="deploy-limitation">
        <div>
          <b>This .xmodel is for inspection</b> (Netron, XIR tools): it has the partition, fix points and int8 weights but
          no DPU machine code, so the board cannot run it. For the board, compile the quantized model
          ({d.intXModelName}, below) with vai_c_xir using the arch.json of {d.board.archJson ? 'this target' : 'your DPU build'}:
        </div>
        <pre className="cp-cmd mono" data-testid="vai-c-command">
          {d.board.archJson ? `echo '${d.board.archJson}' > arch.json\n` : ''}{d.board.command}
        </pre>
        <div>then run the script below on {d.board.output}.</div>
        <div className="cp-row">
          <button onClick={() => void downloadIntXModel()} data-testid="download-int-xmodel">Download {d.intXModelName}</button>
          {d.board.archJson && <button onClick={downloadArchJson} data-testid="download-arch-json">Download arch.json</button>}
        </div>
      </div>
      <div className="cp-row">
        <button onClick={() => void downloadXModel()} data-testid="download-xmodel">Download {d.xmodelName}</button>
        <button onClick={downloadCostTable} data-testid="download-cost">Cost table (.csv)</button>
      </div>
      <div className="small" data-testid="deploy-standin">
        {'npzName' in d.standin ? (
          <>
            <div>
              No board at hand? With these two files beside the VART script, <code>python3 SCRIPT.py IMAGE {d.standin.npzName}</code> runs
              the DPU subgraphs in int8 NumPy, as the Simulate step computes them.
            </div>
            <div className="cp-row">
              <button onClick={() => void downloadStandin()} data-testid="download-standin">Download {d.standin.npzName} + dpu_standin.py</button>
            </div>
          </>
        ) : <>NumPy stand-in for the board: {d.standin.unavailable}.</>}
      </div>
      {d.stubs.length > 0 && (
        <div className="small warn" data-testid="deploy-stubs">
          CPU ops with no NumPy generator, left as stubs that raise: {d.stubs.join(', ')}
        </div>
      )}
      <div className="cp-tabs">
        {TABS.map((t) => (
          <button key={t.id} className={tab === t.id ? 'active' : ''} onClick={() => setTab(t.id)} data-testid={`deploy-tab-${t.id}`}>{t.label}</button>
        ))}
        <span className="cp-spacer" />
        <button onClick={copy} data-testid="copy-code">{copied ? 'Copied' : 'Copy'}</button>
      </div>
      <pre className="cp-code" data-testid="deploy-code">{code}</pre>
    </section>
  );
}
