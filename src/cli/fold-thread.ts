// The calibration statistics thread in Node (calibrate/folder.ts holds both sides' logic): a worker thread
// that folds each batch while onnxruntime runs the next. From source it loads this module through tsx's
// API; in the built CLI it is the bundle itself, whose entry (main.ts) serves the thread when it starts
// inside a worker with `fixpointFold` set.
import { parentPort, Worker } from 'node:worker_threads';
import { folderThread, type FolderPort, type FolderReply, type FolderRequest } from '../core/quant/calibrate/folder';

function script(): { script: string | URL; eval: boolean } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { script: new URL(here), eval: false };
  const api = import.meta.resolve('tsx/esm/api');
  return { script: `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(here)}); }).then((m) => m.serveFoldThread());`, eval: true };
}

/** A new statistics thread (QuantOptions.foldThread). */
export function nodeFoldThread(): FolderPort {
  const { script: s, eval: isEval } = script();
  const w = new Worker(s, { eval: isEval, workerData: { fixpointFold: true }, stdout: false, stderr: false });
  let ended = false;
  return {
    post: (m: FolderRequest, transfer: ArrayBuffer[]) => w.postMessage(m, transfer),
    onMessage: (f) => { w.on('message', (m: FolderReply) => f(m)); },
    onError: (f) => {
      w.on('error', f);
      w.on('exit', (code) => { if (!ended) f(new Error(`calibration statistics thread exited with code ${code}`)); });
    },
    terminate: () => { ended = true; void w.terminate(); },
  };
}

/** Inside the thread: answers the main side's requests until it is terminated. */
export function serveFoldThread(): void {
  const handle = folderThread((m) => parentPort!.postMessage(m));
  parentPort!.on('message', handle);
}
