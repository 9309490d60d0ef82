// The float interpreter against onnxruntime-web on the torchvision exports in /work/shared (random
// weights, so the logits are tiny: every Conv output is compared too, each against its own scale).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readOnnx } from '../../src/core/onnx/reader';
import { writeOnnx } from '../../src/core/onnx/writer';
import { planFloat } from '../../src/core/sim/float/interpreter';
import { compare, randomFeeds, runOrt } from './float-ort';
import { SHARED_ONNX } from '../shared';

const DIR = SHARED_ONNX + '/';
const FILES = ['mobilenet_v2_bn_random.onnx', 'mobilenet_v3_small_random.onnx', 'efficientnet_b0_random.onnx'];

describe.skipIf(!existsSync(DIR + FILES[0]))('float interpreter agrees with onnxruntime-web on /work/shared models', () => {
  for (const file of FILES) {
    it.skipIf(!existsSync(DIR + file))(file, async () => {
      const model = readOnnx(new Uint8Array(readFileSync(DIR + file)));
      const plan = planFloat(model);
      const convs = model.graph.nodes.filter((n) => n.opType === 'Conv').map((n) => n.outputs[0]);
      const names = [...convs, ...model.graph.outputs.map((o) => o.name)];
      const exposed = writeOnnx({ ...model, graph: { ...model.graph, outputs: names.map((name) => ({ name, dtype: 'float32' })) } });
      const feeds = randomFeeds(model, 11, -1, 1);
      const mine = plan.run(feeds, { outputs: names });
      const ref = await runOrt(exposed, feeds, names);
      for (const name of names) {
        const { maxDiff, scale } = compare(mine[name], ref[name]);
        expect([...mine[name].shape], name).toEqual(ref[name].shape);
        expect(scale, name).toBeGreaterThan(0);
        expect(maxDiff, `${name}: ${maxDiff} at scale ${scale}`).toBeLessThanOrEqual(1e-4 * scale);
      }
    });
  }
});
