import { compile } from './compile';
import { convert } from './convert';
import { inspect } from './inspect';
import { quantize } from './quantize';
import { simulate } from './simulate';
import { run } from './run';

export interface Command {
  readonly summary: string;
  /** Returns the exit code: 0 ok, 2 bad input or usage. */
  run(argv: string[]): Promise<number>;
}

// Each capability registers its subcommand here (inspect, quantize, compile, simulate).
export const commands: Record<string, Command> = {
  inspect,
  quantize,
  compile,
  simulate,
  convert,
  run,
};
