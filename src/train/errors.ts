import { Data } from "effect";

/** Input the user can fix: a malformed file, a bad flag, an unusable checkpoint. Exit code 2. */
export class BadInput extends Data.TaggedError("BadInput")<{ readonly lines: readonly string[] }> {
  override get message() {
    return this.lines.join("\n");
  }
}

/** The loss stopped being finite. The last good checkpoint stays on disk. Exit code 3. */
export class NanLoss extends Data.TaggedError("NanLoss")<{
  readonly epoch: number;
  readonly step: number;
  readonly lr: number;
  readonly terms: Readonly<Record<string, number>>;
  readonly gradMaxAbs: number;
  readonly lastCheckpoint: string | null;
}> {
  override get message() {
    const terms = Object.entries(this.terms)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ");
    const kept = this.lastCheckpoint
      ? `the checkpoint after epoch ${this.lastCheckpoint} is kept; lower the learning rate and start a new run`
      : "no epoch completed, so no checkpoint was written; lower the learning rate";
    const what = Object.values(this.terms).every(Number.isFinite) ? `a gradient is not finite (max |g| = ${this.gradMaxAbs})` : "loss is not finite";
    return `${what} at epoch ${this.epoch + 1}, step ${this.step} (lr ${this.lr.toExponential(2)}; ${terms}); no update was applied; ${kept}`;
  }
}

/** A file could not be read or written. Exit code 1. */
export class IoFailure extends Data.TaggedError("IoFailure")<{ readonly path: string; readonly reason: string }> {
  override get message() {
    return `${this.path}: ${this.reason}`;
  }
}
