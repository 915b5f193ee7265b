import type { ImageDecoding, Task } from "../dsl/experiment.js";
import type { PretrainedCfg } from "../models/timmConfig.js";
import type { VitConfig } from "../models/vitConfig.js";
import { ImageDataError } from "./imageDecoding.js";
import { mnistSide } from "./mnist.js";

/** MNIST's pixel statistics (the usual normalisation), which the in-memory tasks use. */
export const mnistMean = 0.1307;
export const mnistStd = 0.3081;

const perChannel = (values: readonly number[], field: string, channels: number): number[] => {
  if (values.length !== 1 && values.length !== channels)
    throw new ImageDataError(`data.${field}: expected 1 or ${channels} values (the model's channels), got ${values.length}`);
  return Array.from({ length: channels }, (_, ch) => values[ch % values.length]!);
};

/**
 * How image files become a model's input, as timm's pretrained_cfg says it: bicubic, "squash"
 * (both sides to the size) or "crop" (timm's centre mode at cropPct), then per channel
 * (v/255 − mean)/std with data's mean and std, else the checkpoint's, else 0.5.
 */
export const imagePreprocessing = (task: ImageDecoding, c: VitConfig, pretrained?: PretrainedCfg): PretrainedCfg => ({
  classes: c.classes,
  mean: perChannel(task.mean ?? pretrained?.mean ?? [0.5], "mean", c.channels),
  std: perChannel(task.std ?? pretrained?.std ?? [0.5], "std", c.channels),
  inputSize: [c.channels, c.image, c.image],
  interpolation: "bicubic",
  cropPct: task.resize === "squash" ? 1 : task.cropPct,
  cropMode: task.resize === "squash" ? "squash" : "center",
});

/**
 * The preprocessing a run feeds its model: an image task's, or for the in-memory tasks MNIST's
 * normalisation of 28×28 images centred in the model's size (timm's centre crop at crop_pct
 * size/28 pads them so).
 */
export const runPreprocessing = (task: Task, c: VitConfig, pretrained?: PretrainedCfg): PretrainedCfg =>
  task._tag === "ImageFolder" || task._tag === "ImageList"
    ? imagePreprocessing(task, c, pretrained)
    : {
        classes: c.classes,
        mean: new Array(c.channels).fill(mnistMean),
        std: new Array(c.channels).fill(mnistStd),
        inputSize: [c.channels, c.image, c.image],
        interpolation: "bicubic",
        cropPct: mnistSide / c.image,
        cropMode: "center",
      };
