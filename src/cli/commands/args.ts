// The argument shape every model command shares: one MODEL, `--json`, and options that take one value.
import { InputError } from '../../core/errors';

export interface Parsed {
  readonly file: string;
  readonly opts: Map<string, string>;
  readonly json: boolean;
}

export function parseModelArgs(argv: readonly string[], command: string, usage: string, valued: ReadonlySet<string>): Parsed {
  const opts = new Map<string, string>();
  const files: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (valued.has(a)) {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new InputError(`${a} needs a value (${usage})`);
      opts.set(a, v);
    } else if (a.startsWith('-')) throw new InputError(`unknown option ${a} (${usage})`);
    else files.push(a);
  }
  if (files.length !== 1) throw new InputError(files.length ? `${command} takes one model, got ${files.length}` : usage);
  return { file: files[0], opts, json };
}

export function requiredOption(opts: ReadonlyMap<string, string>, key: string, usage: string): string {
  const v = opts.get(key);
  if (!v) throw new InputError(`${key} is required (${usage})`);
  return v;
}
