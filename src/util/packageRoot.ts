import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The peft-dsl package directory, found from this module whether it runs from src/ or dist/. */
export const packageRoot = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "peft-dsl") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("peft-dsl: cannot find the package root");
    dir = up;
  }
};

/** The embedded demo backbone (see assets/README.md for the command that produced it). */
export const defaultBackbonePath = (): string => join(packageRoot(), "assets", "vit-mnist04.safetensors");
