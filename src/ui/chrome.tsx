// The frame around the graph: error banner, progress, legend, error boundary.
import { Component, type ReactNode } from 'react';
import type { OpCategory } from '../core/view/types';
import { CATEGORY_STYLE } from './graph/categories';
import { cancel } from './session';
import { set, useStore } from './store';
import { LegendFold } from './legendToggle';

export function ErrorBanner() {
  const error = useStore((s) => s.error);
  if (!error) return null;
  return (
    <div className="banner error" role="alert" data-testid="error-banner">
      <span data-testid="error-message">{error}</span>
      <button className="icon" aria-label="Dismiss" data-testid="error-dismiss" onClick={() => set({ error: null })}>×</button>
    </div>
  );
}

const STAGE_TEXT = { hashing: 'Reading file…', reading: 'Parsing model…', display: 'Building graph…', layout: 'Laying out graph…' } as const;

export function Progress() {
  const busy = useStore((s) => s.busy);
  if (!busy) return null;
  return (
    <div className="progress" data-testid="progress" role="status">
      <div className="spinner" />
      <div>
        <div className="mono small">{busy.fileName}</div>
        <div>{STAGE_TEXT[busy.stage]}</div>
      </div>
      <button onClick={cancel} data-testid="cancel">Cancel</button>
    </div>
  );
}

const ORDER: OpCategory[] = ['conv', 'activation', 'pool', 'norm', 'shape', 'quant', 'control', 'other'];

export function Legend() {
  return (
    <div className="legend category-legend" data-testid="legend">
      <LegendFold />
      {ORDER.map((c) => (
        <div key={c} className="legend-item"><span className="swatch" style={{ background: CATEGORY_STYLE[c].color }} />{CATEGORY_STYLE[c].label}</div>
      ))}
      <div className="legend-item"><span className="swatch unknown-swatch">?</span>Custom op, unknown to the tool</div>
    </div>
  );
}

export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="crash" data-testid="crash">
        <h2>Something went wrong drawing this view</h2>
        <pre>{this.state.error.message}</pre>
        <button onClick={() => this.setState({ error: null })}>Try again</button>
      </div>
    );
  }
}
