import { afterAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cachedDataset, decodeImages } from "../../src/data/imageDecoding.js";
import type { ImageDecoding } from "../../src/dsl/experiment.js";
import { readSafetensors, toFloat32 } from "../../src/models/safetensors.js";
import type { VitConfig } from "../../src/models/vitConfig.js";
import { fixturePath } from "../support/fixtures.js";

/*
 * The image pipeline against timm's own evaluation transform (scripts/timm/preprocessing_fixture.py):
 * the same PNG files, resized and cropped ("crop" is timm's centre mode, "squash" its squash mode at
 * crop_pct 1), normalised with a different mean and std per channel, must give timm's tensors.
 * Resampling is libvips's bicubic (Catmull-Rom) here and PIL's there, so values are compared in
 * pixel levels: within 6 inside, 11 on the outermost pixels (libvips extends an image at its edges
 * where PIL renormalises the kernel) and under 0.75 on average (measured: at most 0.56) — where
 * a channel's statistics swapped, a crop one pixel off or an image flipped are tens of levels away.
 */
const fixture = readSafetensors(readFileSync(fixturePath("timm-preprocessing/expected.safetensors")));
const configs = JSON.parse(fixture.metadata.configs!) as Record<
  string,
  { input_size: number[]; crop_pct: number; crop_mode: "center" | "squash"; mean: number[]; std: number[]; interpolation: string }
>;
const images = ["wide", "tall", "square"];
const work = mkdtempSync(join(tmpdir(), "peft-timm-transform-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
for (const name of images) copyFileSync(fixturePath(`timm-preprocessing/${name}.png`), join(work, `${name}.png`));

describe("image preprocessing matches timm's evaluation transform", () => {
  for (const [mode, cfg] of Object.entries(configs)) {
    it(`${mode} (crop_pct ${cfg.crop_pct}, mean ${cfg.mean.join("/")}, std ${cfg.std.join("/")})`, async () => {
      expect(cfg.interpolation).toBe("bicubic");
      const size = cfg.input_size[1]!;
      const c: VitConfig = { image: size, channels: 3, patch: 4, width: 8, depth: 1, heads: 2, mlpRatio: 2, classes: 2, layerNormEps: 1e-6, gelu: "erf" };
      const task: ImageDecoding = {
        resize: cfg.crop_mode === "squash" ? "squash" : "crop",
        cropPct: cfg.crop_pct,
        mean: cfg.mean,
        std: cfg.std,
        onBadImage: "error",
      };
      const files = images.map((n) => join(work, `${n}.png`));
      const { slots } = await decodeImages(join(work, mode), files, task, c);
      const ours = cachedDataset(
        slots,
        files.map((_, slot) => ({ slot, label: 0 })),
        task,
        c,
      );
      images.forEach((name, k) => {
        const theirs = toFloat32(fixture.tensors.get(`${mode}/${name}`)!);
        const mine = ours.read([k]);
        expect(mine.length).toBe(theirs.length);
        // Both back to pixel levels with the fixture's statistics (channel-last, RGB).
        const level = (v: number, j: number) => (v * cfg.std[j % 3]! + cfg.mean[j % 3]!) * 255;
        const gaps = Array.from(mine, (v, j) => Math.abs(level(v, j) - level(theirs[j]!, j)));
        const border = (j: number) => {
          const [y, x] = [Math.floor(j / 3 / size), Math.floor(j / 3) % size];
          return y === 0 || x === 0 || y === size - 1 || x === size - 1;
        };
        expect(Math.max(...gaps.filter((_, j) => !border(j))), `${name}: largest gap inside, in levels`).toBeLessThan(7);
        expect(Math.max(...gaps), `${name}: largest gap, in levels`).toBeLessThan(12);
        expect(gaps.reduce((a, b) => a + b, 0) / gaps.length, `${name}: mean gap, in levels`).toBeLessThan(0.75);
      });
    });
  }
});
