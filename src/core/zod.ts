// zod, without its JIT: it probes `Function('')` to decide, which a Content-Security-Policy without
// 'unsafe-eval' reports as a violation. The schemas here are small configs; the interpreter is enough.
import { z } from 'zod';

z.config({ jitless: true });

export { z };
