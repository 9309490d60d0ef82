// Choosing the DPU: a board, a DPUCZDX8G size, or an arch.json whose fingerprint is decoded field by field.
import { useRef } from 'react';
import { ARCH_NAMES, BOARDS } from '../../core/compile/targets';
import { hex, type DpuConfig } from '../../core/compile/targets/fingerprint';
import { useStore } from '../store';
import { importArchJson, setTarget } from './actions';

function valueOf(t: ReturnType<typeof useStore.getState>['compileTarget']): string {
  return t.kind === 'arch' ? `arch:${t.arch}` : t.kind === 'board' ? `board:${t.board}` : 'json';
}

function Fingerprint({ c, fileName }: { c: DpuConfig; fileName: string }) {
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const rows: [string, string, string][] = [
    ['fingerprint', hex(c.fingerprint), `from ${fileName}`],
    ['type', String(c.type), 'bits 63:56 — 1 is DPUCZDX8G (Zynq UltraScale+)'],
    ['ISA', String(c.isa), 'bits 55:48 — instruction set version'],
    ['arch index', String(c.archIndex), 'bits 3:0 — selects the parallelism below'],
    ['pixel parallelism', String(c.pixelParallel), 'output pixels computed per clock'],
    ['channel parallelism', String(c.channelParallel), 'input and output channels per clock (ICP = OCP)'],
    ['peak ops / clock', String(c.size), `2·PP·ICP·OCP — the B${c.size} of the name`],
    ['ALU parallelism', String(c.aluParallel), 'bits 11:8 — depthwise conv, pooling, element-wise'],
    ['image bank groups', String(c.imageBankGroups), 'bits 25:24 — on-chip feature-map memory setting'],
    ['channel augmentation', yes(c.channelAugmentation), 'bit 26 — first layer packs its few channels along the kernel'],
    ['conv LeakyReLU', yes(c.convLeakyRelu), 'bit 28 — LeakyReLU (slope 26/256) fuses into conv'],
    ['depthwise LeakyReLU', yes(c.depthwiseLeakyRelu), 'bit 29 — LeakyReLU fuses into depthwise conv'],
    ['save argmax', yes(c.saveArgmax), 'bit 30 — the DPU can write argmax'],
  ];
  return (
    <table className="props cp-fp" data-testid="fingerprint">
      <tbody>
        {rows.map(([k, v, m]) => (
          <tr key={k}><td>{k}</td><td className="mono">{v}</td><td className="muted small">{m}</td></tr>
        ))}
      </tbody>
    </table>
  );
}

export function TargetPicker() {
  const target = useStore((s) => s.compileTarget);
  const archError = useStore((s) => s.archError);
  const picker = useRef<HTMLInputElement>(null);
  const onChange = (v: string) => {
    if (v.startsWith('arch:')) setTarget({ kind: 'arch', arch: v.slice(5) });
    else if (v.startsWith('board:')) setTarget({ kind: 'board', board: v.slice(6) });
  };
  return (
    <section>
      <h4>Target</h4>
      <div className="cp-row">
        <select value={valueOf(target)} onChange={(e) => onChange(e.target.value)} data-testid="target-select">
          <optgroup label="Boards">
            {BOARDS.map((b) => <option key={b.name} value={`board:${b.name}`}>{b.name} ({b.arch.replace('DPUCZDX8G_ISA1_', '')})</option>)}
          </optgroup>
          <optgroup label="DPUCZDX8G sizes">
            {ARCH_NAMES.map((a) => <option key={a} value={`arch:${a}`}>{a}</option>)}
          </optgroup>
          {target.kind === 'archJson' && <option value="json">{target.fileName} ({target.config.name})</option>}
        </select>
        <button onClick={() => picker.current?.click()} data-testid="arch-json-button">arch.json…</button>
        <input
          ref={picker} type="file" accept=".json,application/json" hidden data-testid="arch-json-input"
          onChange={(e) => { const f = e.target.files?.[0]; if (f) void importArchJson(f); e.target.value = ''; }}
        />
      </div>
      {archError && <div className="cp-error" data-testid="arch-error">{archError}</div>}
      {target.kind === 'archJson' && <Fingerprint c={target.config} fileName={target.fileName} />}
    </section>
  );
}
