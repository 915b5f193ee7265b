/**
 * A small LoRA (q, rank 2) + head experiment on MNIST digits 5–7 as JSON: what the run-directory,
 * log and progress tests train. `train` images (val 16), `testLimit` test images, and any
 * other experiment fields as given (schedule, metrics, seed…).
 */
export const tinyLora = (name: string, train: number, testLimit: number, rest: Record<string, unknown>) => ({
  name,
  data: { _tag: "Mnist", digits: [5, 6, 7], split: { _tag: "Vtab1k", train, val: 16 }, seed: 0, testLimit },
  method: {
    targets: [
      { select: { _tag: "Role", role: "q" }, transform: { _tag: "LowRank", rank: 2, alpha: 2 } },
      { select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } },
    ],
  },
  optimizer: { _tag: "AdamW", lr: 0.005 },
  ...rest,
});
