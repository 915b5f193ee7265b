import type { AdamW, Schedule } from "../dsl/experiment.js";

/** Linear warm-up over `warmupEpochs`, then the schedule's shape, stepped per batch (0-based step). */
export const learningRate = (schedule: Schedule, optimizer: AdamW, step: number, stepsPerEpoch: number): number => {
  const warm = Math.round(schedule.warmupEpochs * stepsPerEpoch);
  if (step < warm) return (optimizer.lr * (step + 1)) / warm;
  const shape = schedule.shape;
  switch (shape._tag) {
    case "Constant":
      return optimizer.lr;
    case "Step": {
      const drops = Math.floor((step - warm) / Math.max(1, Math.round(shape.everyEpochs * stepsPerEpoch)));
      return Math.max(schedule.minLr, optimizer.lr * shape.factor ** drops);
    }
    case "Cosine": {
      const total = schedule.epochs * stepsPerEpoch;
      const progress = total > warm ? (step - warm) / (total - warm) : 1;
      return schedule.minLr + (optimizer.lr - schedule.minLr) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
    }
  }
};
