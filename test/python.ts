// The Python the tests run generated scripts with. pyenv's `python3` may lack a module that Debian's
// /usr/bin/python3 has (`.ci/run` installs python3-numpy and python3-pil from Debian), so the first
// interpreter with every module wins. Under CI a missing interpreter is an error, not a silent skip:
// the tests that run the deployment scripts must run there.
import { spawnSync } from 'node:child_process';

const CANDIDATES = ['python3', '/usr/bin/python3'];

/** The first python3 that imports every module, or undefined (throws under CI). */
export function pythonWith(...modules: string[]): string | undefined {
  const code = modules.length ? `import ${modules.join(', ')}` : 'pass';
  const found = CANDIDATES.find((py) => spawnSync(py, ['-c', code], { encoding: 'utf8' }).status === 0);
  if (!found && process.env.CI) throw new Error(`CI: no python3 imports ${modules.join(', ') || 'anything'} (tried ${CANDIDATES.join(', ')}); .ci/run installs them`);
  return found;
}
