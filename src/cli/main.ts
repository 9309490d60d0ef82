// The `fixpoint` command: each subcommand is a module under src/cli/commands exporting `run(argv)`.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { isInputError } from '../core/errors';
import { commands } from './commands';
import { serveFoldThread } from './fold-thread';
import type { ShardRequest } from './parallel';

const USAGE = `usage: fixpoint <command> [options]

commands:
${Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`error: unknown command "${name}"\n${USAGE}`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    // Bad input is the user's to fix: one line. Anything else is our bug: show it whole.
    if (isInputError(e)) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    return 1;
  }
}

/** Inside a worker thread of `--threads N` (parallel.ts): one range of samples, its result posted back. */
async function shard(req: ShardRequest): Promise<void> {
  try {
    const cmd = commands[req.command];
    if (!cmd?.shard) throw new Error(`${req.command} has no shards`);
    const { value, transfer } = await cmd.shard([...req.argv], req.from, req.to);
    parentPort!.postMessage({ ok: true, value }, transfer);
  } catch (e) {
    parentPort!.postMessage({ ok: false, message: e instanceof Error ? (isInputError(e) ? e.message : e.stack ?? e.message) : String(e), input: isInputError(e) });
  }
}

const data = isMainThread ? undefined : (workerData as { fixpointShard?: ShardRequest; fixpointFold?: boolean } | null);
if (data?.fixpointShard) await shard(data.fixpointShard);
else if (data?.fixpointFold) serveFoldThread();
else process.exitCode = await main(process.argv.slice(2));
