import { compile } from './compile';
import { convert } from './convert';
import { evaluate } from './evaluate';
import { inspect } from './inspect';
import { quantize } from './quantize';
import { simulate } from './simulate';
import { run } from './run';

export interface Command {
  readonly summary: string;
  /** Returns the exit code: 0 ok, 2 bad input or usage. */
  run(argv: string[]): Promise<number>;
  /** Samples [from, to) of the same command line, in a worker thread of `--threads N` (src/cli/parallel.ts). */
  shard?(argv: string[], from: number, to: number): Promise<{ value: unknown; transfer: ArrayBuffer[] }>;
}

// Each capability registers its subcommand here (inspect, quantize, compile, simulate).
export const commands: Record<string, Command> = {
  inspect,
  quantize,
  compile,
  simulate,
  convert,
  run,
  evaluate,
};
