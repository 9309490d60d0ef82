// The app's one store. Workers and caches live in ./session; this holds only what the UI renders.
import { create } from 'zustand';
import type { DisplayGraph, Layout } from '../core/view/types';
import type { ModelInfo, OpenStage, WeightStats } from '../../workers/protocol';
import { initialCompileSlice, type CompileSlice } from './compile/slice';
import { initialQuantSlice, type QuantSlice } from './quant/slice';
import { initialSimSlice, type SimSlice } from './sim/slice';
import { initialProjectSlice, type ProjectSlice } from './project/slice';

export interface OpenModel {
  /** Distinct for every open, even of the same file: the graph view remounts on it. */
  readonly openId: number;
  readonly info: ModelInfo;
  readonly graph: DisplayGraph;
  readonly layout: Layout;
  /** XIR fix ops drawn as nodes (default: folded into the edges they quantize). */
  readonly showFix?: boolean;
}

export type Busy = { readonly fileName: string; readonly stage: OpenStage };

/** How nodes are coloured; later steps add modes (quantization error, DPU/CPU partition, a simulation's error). */
export type ColorMode = 'category' | 'sqnr' | 'device' | 'sim';

export type StatsEntry = { readonly state: 'loading' } | { readonly state: 'done'; readonly stats: WeightStats | null } | { readonly state: 'error'; readonly message: string };

export interface AppState extends QuantSlice, CompileSlice, SimSlice, ProjectSlice {
  model: OpenModel | null;
  /**
   * The open file's SHA-256, the key of its project: '' from the open until the model worker has hashed it,
   * after the first drawing (session.modelHash). Kept beside `model`, not in it, so that its arrival does not
   * render again everything that shows the model.
   */
  fileHash: string;
  busy: Busy | null;
  /**
   * The id of an open in flight while no model is shown: the graph canvas mounts for it at once, empty,
   * under the start page, so that the model's arrival finds React Flow already up.
   */
  pendingCanvas: number | null;
  error: string | null;
  selectedId: string | null;
  /** Bumped to ask the graph view to centre on `selectedId`. */
  focusSeq: number;
  /** Bumped to ask the graph view to fit the whole graph. */
  fitSeq: number;
  searchOpen: boolean;
  summaryOpen: boolean;
  galleryOpen: boolean;
  colorMode: ColorMode;
  /** Control-flow nodes whose body is shown. */
  expanded: Readonly<Record<string, boolean>>;
  stats: Readonly<Record<string, StatsEntry>>;
}

export const useStore = create<AppState>()(() => ({
  model: null,
  fileHash: '',
  busy: null,
  pendingCanvas: null,
  error: null,
  selectedId: null,
  focusSeq: 0,
  fitSeq: 0,
  searchOpen: false,
  summaryOpen: false,
  galleryOpen: true,
  colorMode: 'category',
  expanded: {},
  stats: {},
  ...initialQuantSlice,
  ...initialCompileSlice,
  ...initialSimSlice,
  ...initialProjectSlice,
}));

export const set = useStore.setState;
export const get = useStore.getState;

export function select(id: string | null, focus = false): void {
  set((s) => ({ selectedId: id, focusSeq: focus ? s.focusSeq + 1 : s.focusSeq }));
}

export function requestFit(): void {
  set((s) => ({ fitSeq: s.fitSeq + 1 }));
}

export function toggleExpanded(id: string): void {
  set((s) => ({ expanded: { ...s.expanded, [id]: !s.expanded[id] } }));
}
