// What a demo shows for one sample's outputs: the top-5 of a classifier or the decoded YOLOX boxes. The
// same function reads the float and the int8 outputs, so both panes (and `fixpoint simulate --task`) agree.
import { InputError } from '../errors';
import type { FloatTensor } from '../ir';
import { topK } from './classify';
import { labelFor } from './labels';
import { decodeRetinaFace, findRetinaFaceOutputs } from './retinaface';
import { decodeYolox, toImageBoxes, type InputPlacement } from './yolox';

export type DemoTask = 'classify' | 'detect-yolox' | 'detect-retinaface';
export const DEMO_TASKS: readonly DemoTask[] = ['classify', 'detect-yolox', 'detect-retinaface'];

export interface LabelledBox {
  readonly class: number;
  readonly label: string;
  readonly score: number;
  readonly box: [number, number, number, number];
  /** RetinaFace's five landmarks (eyes, nose, mouth corners), in the box's pixels. */
  readonly landmarks?: readonly (readonly [number, number])[];
}

export type Readout =
  | { readonly task: 'classify'; readonly top: { class: number; label: string; score: number }[] }
  | { readonly task: 'detect-yolox' | 'detect-retinaface'; readonly boxes: LabelledBox[] };

export interface ReadoutOptions {
  readonly labels?: readonly string[];
  /** Where the image went in the model input (detection); without it boxes stay in input pixels. */
  readonly placement?: InputPlacement;
  readonly inputH?: number;
  readonly inputW?: number;
  /** Detection score threshold; the UI's slider filters below it afterwards. */
  readonly scoreThreshold?: number;
}

const size = (t: FloatTensor) => t.shape.reduce((a, b) => a * b, 1);

/** The output a task reads: a classifier's one output with more than one value, YOLOX's [1, A, 5 + C]. */
export function pickOutput(outputs: Readonly<Record<string, FloatTensor>>, task: 'classify' | 'detect-yolox'): [string, FloatTensor] {
  const all = Object.entries(outputs);
  const ok = all.filter(([, t]) => (task === 'classify' ? size(t) > 1 : t.shape.length === 3 && t.shape[2] > 5));
  if (ok.length === 0) throw new InputError(task === 'classify'
    ? `no model output holds class scores (outputs: ${all.map(([n, t]) => `${n} [${t.shape.join(', ')}]`).join(', ')})`
    : `no model output has the YOLOX form [1, anchors, 5 + classes] (outputs: ${all.map(([n, t]) => `${n} [${t.shape.join(', ')}]`).join(', ')})`);
  return ok[0];
}

const shapes = (outputs: Readonly<Record<string, FloatTensor>>) => Object.entries(outputs).map(([n, t]) => `${n} [${t.shape.join(', ')}]`).join(', ');

export function readout(task: DemoTask, outputs: Readonly<Record<string, FloatTensor>>, o: ReadoutOptions = {}): Readout {
  if (task === 'detect-retinaface') {
    const found = findRetinaFaceOutputs(outputs);
    if (!found) throw new InputError(`no model outputs have RetinaFace's form [1, A, 4], [1, A, 2], [1, A, 10] (outputs: ${shapes(outputs)})`);
    if (!o.inputH || !o.inputW) throw new InputError('RetinaFace decode needs the model input size');
    let dets = decodeRetinaFace(found.outputs, { inputH: o.inputH, inputW: o.inputW, scoreThreshold: o.scoreThreshold ?? 0.1 });
    if (o.placement) dets = toImageBoxes(dets, o.placement);
    return { task, boxes: dets.map((d) => ({ class: 0, label: 'face', score: d.score, box: d.box, landmarks: d.landmarks })) };
  }
  const [, t] = pickOutput(outputs, task);
  if (task === 'classify') {
    if (t.shape.length > 1 && t.shape[0] !== 1) throw new InputError(`classify reads one sample; the output has batch ${t.shape[0]}`);
    return { task, top: topK(t.data, 5, o.labels) };
  }
  if (!o.inputH || !o.inputW) throw new InputError('YOLOX decode needs the model input size');
  let dets = decodeYolox(t.data, t.shape, { inputH: o.inputH, inputW: o.inputW, scoreThreshold: o.scoreThreshold ?? 0.1 });
  if (o.placement) dets = toImageBoxes(dets, o.placement);
  return { task, boxes: dets.map((d) => ({ class: d.classId, label: labelFor(d.classId, o.labels), score: d.score, box: d.box })) };
}
