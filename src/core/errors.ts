/**
 * An error caused by the user's input (a bad file, an unsupported op, a wrong shape) as opposed to a
 * bug. Its message is one line a user can act on; the UI shows it as is and the CLI prints `error: …`
 * and exits 2.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
}

export function isInputError(e: unknown): e is InputError {
  return e instanceof Error && e.name === 'InputError';
}
