import { readSafetensorsMetadata } from "../models/safetensors.js";
import { outputFiles } from "../train/runResult.js";

/**
 * The shape of the backbone a run trained (image, channels, patch, width, depth, heads…), as its
 * merged weights record it in their safetensors metadata; null when the file is absent or not
 * ours. Only the header is read, never the weights.
 */
export const trainedBackbone = (runDir: string): Readonly<Record<string, unknown>> | null => {
  try {
    const config = readSafetensorsMetadata(outputFiles(runDir).merged).config;
    const parsed: unknown = config === undefined ? null : JSON.parse(config);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
};
