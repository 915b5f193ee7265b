/** A law that does not hold, with what was compared. */
export class LawViolation extends Error {
  override readonly name = "LawViolation";
}

export const holds = (ok: boolean, message: () => string): void => {
  if (!ok) throw new LawViolation(message());
};
