import type { Image } from "./raster.js";

/** A deterministic stream of a task's examples: example i is always the same image and label. */
export interface ExampleSource {
  /** How many distinct examples the stream holds (Infinity for procedural scenes). */
  readonly size: number;
  readonly example: (i: number) => { readonly image: Image; readonly label: number };
}
