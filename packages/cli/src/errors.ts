// Errors the cli maps to exit codes.

/**
 * Bad input found after flag parsing (an unknown preset, sizes that do not fit, a destination
 * that would overwrite a run): the message says what is wrong and what to do; exit code 2.
 */
export class InputError extends Error {
  override name = "InputError";
}

/** A training failure that left the run directory consistent (status "failed"). */
export class TrainError extends Error {
  override name = "TrainError";
}
