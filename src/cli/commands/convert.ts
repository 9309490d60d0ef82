// `fixpoint convert MODEL --out FILE.onnx`: a TFLite or Keras model as the float ONNX graph it is imported as.
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError } from '../../core/errors';
import { writeOnnx } from '../../core/onnx/writer';
import { openModelAsync } from '../../core/open';
import { readModelFile } from './inspect';
import type { Command } from './index';

const USAGE = 'usage: fixpoint convert MODEL --out FILE.onnx';

export const convert: Command = {
  summary: 'save a .tflite / Keras .h5 / .keras model as a float ONNX model',
  async run(argv: string[]): Promise<number> {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const i = argv.indexOf('--out');
    const out = i >= 0 ? argv[i + 1] : undefined;
    const rest = argv.filter((_, k) => k !== i && k !== i + 1);
    const unknown = rest.find((a) => a.startsWith('-'));
    if (unknown) throw new InputError(`unknown option ${unknown} (${USAGE})`);
    if (rest.length !== 1 || !out) throw new InputError(USAGE);
    const model = await openModelAsync(readModelFile(rest[0]), basename(rest[0]));
    if (model.format === 'xmodel') throw new InputError(`${basename(rest[0])} is an .xmodel, which has no ONNX form`);
    try {
      writeFileSync(out, writeOnnx(model));
    } catch (e) {
      throw new InputError(`cannot write ${out}: ${(e as Error).message}`);
    }
    process.stdout.write(`wrote ${out} (${model.graph.nodes.length} nodes, from ${model.format})\n`);
    return 0;
  },
};
