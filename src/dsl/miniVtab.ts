/**
 * mini-VTAB: the benchmark's tasks as data — name, VTAB group, classes and what is asked. The
 * images are built offline and deterministically (src/data/miniVtab); the demo backbone, trained
 * on MNIST digits 0–4, has seen none of these tasks: the natural and specialized tasks use only
 * images of digits 5–9, the structured ones are drawn procedurally.
 */
export const miniVtabGroups = ["natural", "specialized", "structured"] as const;
export type MiniVtabGroup = (typeof miniVtabGroups)[number];

export interface MiniVtabTask {
  readonly group: MiniVtabGroup;
  readonly classes: number;
  readonly description: string;
}

export const miniVtabTasks = {
  digits: { group: "natural", classes: 5, description: "which digit, 5–9 (MNIST images of 5–9)" },
  parity: { group: "natural", classes: 2, description: "odd (5, 7, 9) or even (6, 8)" },
  "pair-order": { group: "natural", classes: 3, description: "two half-size digits side by side: left smaller, equal, or larger than right" },
  inverted: { group: "specialized", classes: 5, description: "which digit, 5–9, on inverted images (1 − x)" },
  noisy: { group: "specialized", classes: 5, description: "which digit, 5–9, under Gaussian noise σ = 0.4 (pixels in [0, 1], clipped)" },
  blurred: { group: "specialized", classes: 5, description: "which digit, 5–9, under a Gaussian blur σ = 1.5 px" },
  elastic: {
    group: "specialized",
    classes: 5,
    description: "which digit, 5–9, under an elastic deformation (typical displacement 2 px, smoothing σ = 3 px) over a striped texture",
  },
  count: { group: "structured", classes: 5, description: "how many discs, 1–5 (Clevr-count-like)" },
  location: { group: "structured", classes: 9, description: "which cell of a 3 × 3 grid holds the square (dSprites-location-like)" },
  orientation: { group: "structured", classes: 8, description: "the angle of a bar, 8 bins over [0°, 180°) (dSprites-orientation-like)" },
  distance: { group: "structured", classes: 4, description: "distance between two dots, 4 bins (Clevr/KITTI-distance-like)" },
} as const satisfies Record<string, MiniVtabTask>;

export type MiniVtabName = keyof typeof miniVtabTasks;
export const miniVtabNames = Object.keys(miniVtabTasks) as MiniVtabName[];
