// Search box with a results list: Enter or click centres on the match and selects it.
import { useEffect, useMemo, useRef, useState } from 'react';
import { searchGraph } from '../../core/view/search';
import { select, set, useStore } from '../store';

export function Search() {
  const graph = useStore((s) => s.model?.graph);
  const open = useStore((s) => s.searchOpen);
  const [q, setQ] = useState('');
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const hits = useMemo(() => (graph ? searchGraph(graph, q) : []), [graph, q]);
  useEffect(() => { if (open) input.current?.focus(); }, [open]);
  useEffect(() => setActive(0), [q]);
  const go = (i: number) => {
    const h = hits[i];
    if (!h) return;
    select(h.id, true);
    set({ searchOpen: false });
    input.current?.blur();
  };
  const label = (id: string) => graph?.nodes.find((n) => n.id === id);
  return (
    <div className="search">
      <input
        ref={input}
        data-testid="search-input"
        // Short enough for the box's 120 px at 1280 with a long file name; the title says the rest.
        placeholder="Search  ( / )"
        title="Search nodes, ops and tensors by name ( / )"
        value={q}
        disabled={!graph}
        onChange={(e) => { setQ(e.target.value); set({ searchOpen: true }); }}
        onFocus={() => set({ searchOpen: true })}
        onBlur={() => set({ searchOpen: false })}
        onKeyDown={(e) => {
          if (e.key === 'Enter') go(active);
          else if (e.key === 'ArrowDown') { e.preventDefault(); setActive((a) => Math.min(hits.length - 1, a + 1)); }
          else if (e.key === 'ArrowUp') { e.preventDefault(); setActive((a) => Math.max(0, a - 1)); }
          else if (e.key === 'Escape') { set({ searchOpen: false }); input.current?.blur(); }
        }}
      />
      {open && q.trim() && (
        <ul className="search-results" data-testid="search-results">
          {hits.length === 0 && <li className="muted">no match</li>}
          {hits.map((h, i) => {
            const n = label(h.id);
            return (
              <li
                key={h.id}
                data-testid="search-result"
                className={i === active ? 'active' : ''}
                onMouseDown={(e) => { e.preventDefault(); go(i); }}
              >
                <span className="search-op">{n?.kind === 'op' ? n.label : n?.kind}</span>
                <span className="mono">{h.text}</span>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
