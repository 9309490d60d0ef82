// Whether the colour legend is folded away. Legends sit over the graph, so a user who knows the colours
// can put them away; one choice for every legend (category, SQNR, subgraph), kept while the page lives.
import { create } from 'zustand';

export const useLegendFolded = create<{ folded: boolean }>()(() => ({ folded: false }));

export function LegendFold() {
  return (
    <button className="icon legend-fold" data-testid="legend-fold" title="Hide the legend" aria-label="Hide the legend"
      onClick={() => useLegendFolded.setState({ folded: true })}>×</button>
  );
}

export function LegendUnfold() {
  return (
    <button className="legend-unfold" data-testid="legend-unfold" title="Show the legend"
      onClick={() => useLegendFolded.setState({ folded: false })}>Legend</button>
  );
}
