// Writes the sample calibration/evaluation sets shipped under public/calib from Fashion-MNIST's test
// split (idx, gzip): the first 200 images for calibration, the next 1000 (+ labels) for evaluation.
//   npx tsx scripts/make-calib.ts [/work/shared/datasets/fashion-mnist]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'fflate';
import { writeNpy } from '../src/core/data/npy';

const src = process.argv[2] ?? '/work/shared/datasets/fashion-mnist';
const out = 'public/calib';

function idx(file: string, magic: number): { dims: number[]; data: Uint8Array } {
  const b = gunzipSync(readFileSync(join(src, file)));
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(0) !== magic) throw new Error(`${file}: bad idx magic`);
  const rank = magic & 0xff;
  const dims = Array.from({ length: rank }, (_, i) => dv.getUint32(4 + 4 * i));
  return { dims, data: b.subarray(4 + 4 * rank) };
}

const images = idx('t10k-images-idx3-ubyte.gz', 0x0803);
const labels = idx('t10k-labels-idx1-ubyte.gz', 0x0801);
const px = images.dims[1] * images.dims[2];
const slice = (a: number, b: number) => images.data.slice(a * px, b * px);

mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'fmnist_calib200.npy'), writeNpy({ dtype: 'uint8', shape: [200, 28, 28], data: slice(0, 200) }));
writeFileSync(join(out, 'fmnist_eval1000.npy'), writeNpy({ dtype: 'uint8', shape: [1000, 28, 28], data: slice(200, 1200) }));
writeFileSync(join(out, 'fmnist_eval1000_labels.npy'), writeNpy({ dtype: 'uint8', shape: [1000], data: labels.data.slice(200, 1200) }));
console.log(`wrote ${out}/fmnist_calib200.npy, fmnist_eval1000.npy, fmnist_eval1000_labels.npy`);
