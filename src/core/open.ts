// Opens a model file of any supported format, recognising common wrong files by their magic bytes.
import { InputError } from './errors';
import type { Model } from './ir';
import { readOnnx } from './onnx/reader';
import { readTflite } from './tflite/to-model';
import { readXModel } from './xmodel/codec';
import { xmodelToModel } from './xmodel/to-model';

const MAGIC: readonly [string, readonly number[]][] = [
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a PDF document', [0x25, 0x50, 0x44, 0x46]],
  ['a gzip archive', [0x1f, 0x8b]],
  ['a Python pickle (a PyTorch checkpoint?)', [0x80, 0x02]],
  ['a NumPy array', [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]],
];

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  return bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);
}

function isUtf8(b: Uint8Array): boolean {
  try {
    // stream: a multi-byte character cut at the sample's end is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(b, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** What a non-model file is, when it is recognisable. */
export function sniffForeign(bytes: Uint8Array): string | undefined {
  for (const [what, magic] of MAGIC) if (startsWith(bytes, magic)) return what;
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
  if (head.startsWith('{') || head.startsWith('[')) return 'a JSON text file';
  if (/^<(\?xml|!doctype|html)/i.test(head)) return 'an XML/HTML text file';
  // Protobuf always has control bytes early (tags, lengths); pure UTF-8 text is never a model.
  const sample = bytes.subarray(0, 512);
  if (sample.every((b) => b === 9 || b === 10 || b === 13 || b >= 32) && isUtf8(sample)) return 'a text file';
  return undefined;
}

const HDF5 = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const TFL3 = [0x54, 0x46, 0x4c, 0x33];

/** Formats that need the asynchronous opener (their HDF5 reader loads on first use). */
export function needsAsyncOpen(bytes: Uint8Array): boolean {
  return startsWith(bytes, HDF5) || startsWith(bytes, ZIP);
}

/** Parses `bytes` as an ONNX, XModel or TFLite model; `fileName` only shapes error messages and format hints. */
export function openModel(bytes: Uint8Array, fileName: string): Model {
  const label = fileName || 'the file';
  if (bytes.length === 0) throw new InputError(`${label} is empty (0 bytes), not an ONNX model`);
  // TFLite puts its FlatBuffer identifier at offset 4; a .tflite name with another identifier is a bad file.
  if (startsWith(bytes, TFL3, 4) || /\.tflite$/i.test(fileName)) {
    try {
      return readTflite(bytes);
    } catch (e) {
      throw e instanceof InputError ? new InputError(`${label}: ${e.message}`) : e;
    }
  }
  if (needsAsyncOpen(bytes)) throw new InputError(`${label} is a Keras/HDF5 or zip file: open it with openModelAsync`);
  const foreign = sniffForeign(bytes);
  if (foreign) throw new InputError(`${label} is ${foreign}, not an ONNX model (nor .xmodel, .tflite, Keras .h5/.keras)`);
  // XIR graphs (.xmodel) have no magic bytes: the extension decides.
  if (/\.xmodel$/i.test(fileName)) return xmodelToModel(readXModel(bytes));
  return readOnnx(bytes);
}

/** Any supported model: also Keras `.h5` (HDF5) and `.keras` (zip), whose reader is loaded on demand. */
export async function openModelAsync(bytes: Uint8Array, fileName: string): Promise<Model> {
  const label = fileName || 'the file';
  if (startsWith(bytes, HDF5)) {
    const { readKerasH5 } = await import('./keras/read');
    return readKerasH5(bytes, label);
  }
  if (startsWith(bytes, ZIP)) {
    const { readKerasZip } = await import('./keras/read');
    return readKerasZip(bytes, label);
  }
  return openModel(bytes, fileName);
}
