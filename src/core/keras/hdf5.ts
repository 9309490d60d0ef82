// The few HDF5 reads a Keras file needs, over h5wasm (the HDF5 C library compiled to WebAssembly: every
// superblock version, chunked/gzip/shuffle datasets, variable-length strings, dense attribute storage).
// It is imported on first use only, so ONNX users never load its 4 MB.
import { InputError } from '../errors';

/** An open HDF5 file: attributes and datasets by path. */
export interface H5 {
  has(path: string): boolean;
  /** Attribute `name` of the object at `path` ('/' for the root), undefined when absent. */
  attr(path: string, name: string): unknown;
  attrNames(path: string): string[];
  keys(path: string): string[];
  /** A dataset's shape and values as numbers (float64); undefined when `path` is not a dataset. */
  dataset(path: string): { shape: number[]; values: Float64Array } | undefined;
  close(): void;
}

type H5Module = typeof import('h5wasm');
let loading: Promise<H5Module> | undefined;
let counter = 0;

async function h5wasm(): Promise<H5Module> {
  loading ??= import('h5wasm').then(async (m) => {
    const mod = (m as unknown as { default?: H5Module }).default ?? m;
    const lib = await mod.ready;
    // HDF5 errors become JS exceptions (caught below as one message) instead of a stack printed to stderr.
    lib.activate_throwing_error_handler();
    return mod;
  });
  return loading;
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function isHdf5(bytes: Uint8Array): boolean {
  return HDF5_MAGIC.every((b, i) => bytes[i] === b);
}

function toNumbers(v: unknown): Float64Array {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return Float64Array.of(Number(v));
  if (ArrayBuffer.isView(v)) {
    const a = v as unknown as ArrayLike<number | bigint>;
    const out = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = Number(a[i]);
    return out;
  }
  if (Array.isArray(v)) return Float64Array.from(v.flat(Infinity) as number[], Number);
  throw new Error('not numeric');
}

/** The innermost cause of an HDF5 error stack ("truncated file: eof = 4000, … stored_eof = 65544"), one line. */
function reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const causes = [...text.matchAll(/#\d+: .* in [\w.]+\(\): (.*)$/gm)].map((m) => m[1].trim());
  return causes.at(-1) ?? text.split('\n')[0];
}

/** Opens HDF5 bytes. `label` names the file in messages. Throws InputError when the library cannot. */
export async function openH5(bytes: Uint8Array, label: string): Promise<H5> {
  if (!isHdf5(bytes)) throw new InputError(`${label} is not an HDF5 file (no HDF5 signature)`);
  const mod = await h5wasm();
  const { FS } = await mod.ready;
  const path = `/fixpoint-${++counter}.h5`;
  FS.writeFile(path, bytes);
  let file: InstanceType<H5Module['File']>;
  try {
    file = new mod.File(path, 'r');
  } catch (e) {
    FS.unlink(path);
    throw new InputError(`${label} is a damaged HDF5 file (${reason(e)})`);
  }
  if (!file.file_id || Number(file.file_id) < 0) {
    FS.unlink(path);
    throw new InputError(`${label} is a damaged or truncated HDF5 file`);
  }
  const get = (p: string) => (p === '/' ? file : file.get(p));
  const wrap = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`${label}: cannot read ${what} (${reason(e)}); the HDF5 file is damaged or truncated`);
    }
  };
  return {
    has: (p) => wrap(p, () => p === '/' || file.get(p) != null),
    attr: (p, name) => wrap(`attribute ${name} of ${p}`, () => {
      const o = get(p) as { attrs?: Record<string, { value: unknown }> } | null;
      const a = o?.attrs?.[name];
      return a ? a.value : undefined;
    }),
    attrNames: (p) => wrap(`attributes of ${p}`, () => Object.keys((get(p) as { attrs?: object } | null)?.attrs ?? {})),
    keys: (p) => wrap(p, () => {
      const o = get(p) as { keys?: () => string[] } | null;
      return typeof o?.keys === 'function' ? o.keys() : [];
    }),
    dataset: (p) => wrap(`dataset ${p}`, () => {
      const d = file.get(p) as { type?: string; shape?: number[] | null; value?: unknown } | null;
      if (!d || d.type !== 'Dataset') return undefined;
      const values = toNumbers(d.value);
      return { shape: d.shape ?? [], values };
    }),
    close: () => {
      try { file.close(); } finally { FS.unlink(path); }
    },
  };
}
