import { closeSync, openSync, readSync } from "node:fs";
import { maxHeaderBytes } from "../models/safetensors.js";
import { outputFiles } from "../train/runResult.js";

/**
 * The shape of the backbone a run trained (image, channels, patch, width, depth, heads…), as its
 * merged weights record it in their safetensors metadata; null when the file is absent or not
 * ours. Only the header is read, never the weights.
 */
export const trainedBackbone = (runDir: string): Readonly<Record<string, unknown>> | null => {
  let fd: number | undefined;
  try {
    fd = openSync(outputFiles(runDir).merged, "r");
    const size = Buffer.alloc(8);
    if (readSync(fd, size, 0, 8, 0) < 8) return null;
    const length = Number(size.readBigUInt64LE(0));
    if (length > maxHeaderBytes) return null;
    const header = Buffer.alloc(length);
    if (readSync(fd, header, 0, length, 8) < length) return null;
    const config = (JSON.parse(header.toString("utf8")) as { __metadata__?: { config?: unknown } }).__metadata__?.config;
    const parsed: unknown = typeof config === "string" ? JSON.parse(config) : null;
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
};
