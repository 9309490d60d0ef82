// A helper thread of the int8 DPU kernels in the browser (src/core/sim/dpu/kernel-threads.ts): started
// by the sim worker's engine, it takes its share of each big conv layer on the engine's shared memory.
import { serveKernelJobs, type HelperData } from '../src/core/sim/dpu/kernel-threads';

onmessage = (e: MessageEvent<HelperData>) => {
  onmessage = null;
  serveKernelJobs(e.data, (m) => postMessage(m));
};
