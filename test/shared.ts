// Where ../shared (real models and data, read-only) is: beside the repo, as on the developers' machines and in
// CI. Tests that use it skip when it is absent, so a bare clone still passes.
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

export const SHARED_DIR = process.env.FIXPOINT_SHARED ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared');
export const SHARED_ONNX = resolve(SHARED_DIR, 'models/onnx');
