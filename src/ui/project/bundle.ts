// A project as one file: a zip of project.json (name, state, calibration preprocessing and file
// names), the model's bytes and the calibration files. Import checks every part before anything is stored.
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { InputError } from '../../core/errors';
import type { CalibRecord } from './db';
import type { SavedState } from './saved';

export const PROJECT_EXT = '.fixpoint';

interface Manifest {
  readonly format: 'fixpoint-project';
  readonly version: 1;
  readonly name: string;
  readonly state: SavedState;
  readonly calib: { readonly names: readonly string[]; readonly preprocess: unknown } | null;
}

// An arch.json target keeps its fingerprint as a BigInt, which JSON has no form for.
const toJson = (_: string, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v);
const fromJson = (_: string, v: unknown) => {
  if (v && typeof v === 'object' && Object.keys(v).length === 1 && typeof (v as { $bigint?: unknown }).$bigint === 'string') {
    const digits = (v as { $bigint: string }).$bigint;
    if (/^-?\d{1,40}$/.test(digits)) return BigInt(digits);
  }
  return v;
};

export interface Bundle {
  readonly name: string;
  readonly model: Uint8Array;
  readonly state: SavedState;
  readonly calib: CalibRecord | null;
}

export function packProject(b: Bundle): Uint8Array {
  const manifest: Manifest = { format: 'fixpoint-project', version: 1, name: b.name, state: b.state, calib: b.calib ? { names: b.calib.files.map((f) => f.name), preprocess: b.calib.preprocess } : null };
  const files: Record<string, Uint8Array> = { 'project.json': strToU8(JSON.stringify(manifest, toJson)), model: b.model };
  b.calib?.files.forEach((f, i) => { files[`calib/${i}`] = f.bytes; });
  // Models are mostly incompressible floats: store, do not spend seconds deflating them.
  return zipSync(files, { level: 0 });
}

export function unpackProject(bytes: Uint8Array, fileName: string): Bundle {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch {
    throw new InputError(`${fileName}: not a Fixpoint project (not a zip archive)`);
  }
  const json = files['project.json'];
  const model = files['model'];
  if (!json || !model) throw new InputError(`${fileName}: not a Fixpoint project (project.json or model missing)`);
  let m: Manifest;
  try {
    m = JSON.parse(strFromU8(json), fromJson) as Manifest;
  } catch {
    throw new InputError(`${fileName}: project.json is not valid JSON`);
  }
  if (m?.format !== 'fixpoint-project' || m.version !== 1) throw new InputError(`${fileName}: project.json is not a version 1 Fixpoint project`);
  if (typeof m.name !== 'string' || typeof m.state !== 'object' || m.state === null || typeof m.state.quantConfig !== 'string') {
    throw new InputError(`${fileName}: project.json lacks its name or state`);
  }
  let calib: CalibRecord | null = null;
  if (m.calib) {
    if (!Array.isArray(m.calib.names)) throw new InputError(`${fileName}: project.json calib.names is not a list`);
    calib = {
      preprocess: m.calib.preprocess,
      files: m.calib.names.map((name, i) => {
        const f = files[`calib/${i}`];
        if (!f) throw new InputError(`${fileName}: calibration file ${i} is missing`);
        return { name: String(name), bytes: f };
      }),
    };
  }
  return { name: m.name, model, state: m.state, calib };
}
