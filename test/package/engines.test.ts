import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { projectRoot } from "../support/peftCli.js";

interface LockEntry {
  readonly engines?: { readonly node?: string };
}

/*
 * `engines` is a promise: on every Node it admits, no installed package's own `engines` refuses
 * to run, so `npm ci` prints no EBADENGINE warning there. Checked against what the lock file
 * records of each package that is installed on this machine (platform-specific optional ones
 * that npm skipped are not).
 */
describe("engines", () => {
  it("admits only Node versions every installed package admits", () => {
    const lock = JSON.parse(readFileSync(join(projectRoot, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
    const ours = lock.packages[""]!.engines!.node!;
    const own = (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as LockEntry).engines!.node;
    expect(own).toBe(ours);
    const refusing = Object.entries(lock.packages)
      .filter(([path, p]) => path !== "" && p.engines?.node !== undefined && existsSync(join(projectRoot, path)))
      .filter(([, p]) => !semver.subset(ours, p.engines!.node!))
      .map(([path, p]) => `${path} wants ${p.engines!.node}`);
    expect(refusing).toEqual([]);
    expect(semver.satisfies(process.version, ours), `this Node (${process.version}) is one engines admits`).toBe(true);
  });
});
