/** The lease is no longer this worker's: the checkpoint was not written (KCL's ShutdownException). */
export class ShutdownException extends Error {
  override readonly name = 'ShutdownException';
}

/** The lease table is missing or not in a usable state (KCL's InvalidStateException). */
export class InvalidStateException extends Error {
  override readonly name = 'InvalidStateException';
}
