import type { AdamW, Schedule } from "../dsl/experiment.js";

/** Linear warm-up over `warmupEpochs`, then cosine decay to `minLr`, stepped per batch (0-based step). */
export const learningRate = (schedule: Schedule, optimizer: AdamW, step: number, stepsPerEpoch: number): number => {
  const warm = Math.round(schedule.warmupEpochs * stepsPerEpoch);
  const total = schedule.epochs * stepsPerEpoch;
  if (step < warm) return (optimizer.lr * (step + 1)) / warm;
  const progress = total > warm ? (step - warm) / (total - warm) : 1;
  return schedule.minLr + (optimizer.lr - schedule.minLr) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
};
