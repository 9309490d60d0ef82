// Opens a model file of any supported format, recognising common wrong files by their magic bytes.
import { InputError } from './errors';
import type { Model } from './ir';
import { readOnnx } from './onnx/reader';
import { readXModel } from './xmodel/codec';
import { xmodelToModel } from './xmodel/to-model';

const MAGIC: readonly [string, readonly number[]][] = [
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a ZIP archive (a PyTorch .pt or Keras file?)', [0x50, 0x4b, 0x03, 0x04]],
  ['a PDF document', [0x25, 0x50, 0x44, 0x46]],
  ['a gzip archive', [0x1f, 0x8b]],
  ['an HDF5 file (a Keras .h5 model?)', [0x89, 0x48, 0x44, 0x46]],
  ['a Python pickle (a PyTorch checkpoint?)', [0x80, 0x02]],
  ['a TensorFlow Lite model', [0x54, 0x46, 0x4c, 0x33]],
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
  // TFLite puts its identifier at offset 4.
  if (startsWith(bytes, [0x54, 0x46, 0x4c, 0x33], 4)) return 'a TensorFlow Lite model';
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
  if (head.startsWith('{') || head.startsWith('[')) return 'a JSON text file';
  if (/^<(\?xml|!doctype|html)/i.test(head)) return 'an XML/HTML text file';
  // Protobuf always has control bytes early (tags, lengths); pure UTF-8 text is never a model.
  const sample = bytes.subarray(0, 512);
  if (sample.every((b) => b === 9 || b === 10 || b === 13 || b >= 32) && isUtf8(sample)) return 'a text file';
  return undefined;
}

/** Parses `bytes` as a model; `fileName` only shapes error messages and format hints. */
export function openModel(bytes: Uint8Array, fileName: string): Model {
  const label = fileName || 'the file';
  if (bytes.length === 0) throw new InputError(`${label} is empty (0 bytes), not an ONNX model`);
  const foreign = sniffForeign(bytes);
  if (foreign) throw new InputError(`${label} is ${foreign}, not an ONNX model`);
  // XIR graphs (.xmodel) have no magic bytes: the extension decides.
  if (/\.xmodel$/i.test(fileName)) return xmodelToModel(readXModel(bytes));
  return readOnnx(bytes);
}
