/** Longest message kept: a name read from a file can be megabytes long, a message is one line. */
const MAX_MESSAGE = 600;

/**
 * A message as one printable line: control characters (which files can put into names, and which would
 * break the line or drive a terminal) become `\xNN`/`\uNNNN` escapes, and an overlong message is cut.
 */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return clean.length > MAX_MESSAGE ? `${clean.slice(0, MAX_MESSAGE - 1)}…` : clean;
}

/**
 * An error caused by the user's input (a bad file, an unsupported op, a wrong shape) as opposed to a
 * bug. Its message is one line a user can act on; the UI shows it as is and the CLI prints `error: …`
 * and exits 2. The constructor makes it one line whatever file text it quotes.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(message: string, options?: ErrorOptions) {
    super(oneLine(message), options);
  }
}

export function isInputError(e: unknown): e is InputError {
  return e instanceof Error && e.name === 'InputError';
}

/**
 * The engine's own failures that a hostile or extreme file can provoke (stack exhausted by nesting,
 * an array or string the engine refuses to make) as an InputError naming `what`; anything else is a bug
 * and is rethrown unchanged.
 */
export function asInputError(e: unknown, what: string): unknown {
  if (isInputError(e)) return e;
  if (e instanceof RangeError && /call stack|Invalid (array|string|typed array) length|allocation failed|out of memory/i.test(e.message))
    return new InputError(`${what} is too large or too deeply nested to open here (${e.message})`);
  return e;
}

/**
 * Runs a reader on the file `name`; its InputError is made to name the file (readers that see only
 * bytes do not know it), and the engine's own limits hit by an extreme file become one too.
 */
export function readingFile<T>(name: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    throw namingFile(e, name);
  }
}

/** `readingFile` for readers that load lazily (HDF5). */
export async function readingFileAsync<T>(name: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    throw namingFile(e, name);
  }
}

function namingFile(e: unknown, name: string): unknown {
  const err = asInputError(e, name);
  return isInputError(err) && !err.message.includes(name) ? new InputError(`${name}: ${err.message}`, { cause: err }) : err;
}
