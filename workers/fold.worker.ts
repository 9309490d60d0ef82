// The calibration statistics thread in the browser (src/core/quant/calibrate/folder.ts): started by the
// quant worker, it folds each batch's statistics while onnxruntime runs the next batch there.
import { folderThread, type FolderRequest } from '../src/core/quant/calibrate/folder';

const handle = folderThread((m) => postMessage(m));
onmessage = (e: MessageEvent<FolderRequest>) => handle(e.data);
