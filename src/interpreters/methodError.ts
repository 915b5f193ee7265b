/** A Method that cannot be applied to a backbone (bad selection, overlapping targets...). */
export class MethodError extends Error {
  override readonly name = "MethodError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}
