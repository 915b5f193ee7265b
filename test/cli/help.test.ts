import { describe, expect, it } from "vitest";
import { tmpdir } from "node:os";
import { peftIn } from "../support/peftCli.js";

const peft = peftIn(tmpdir());

/** Every command and every flag a user can give it, with the defaults its help must state. */
const commands: Record<string, { flags: string[]; defaults: string[] }> = {
  train: { flags: ["--out", "--epochs", "--seed", "--backend", "--resume"], defaults: ["default: auto", "default: the experiment's"] },
  count: { flags: ["--backbone", "--arch", "--json"], defaults: ["default: the experiment's backbone"] },
  describe: { flags: ["--backbone", "--arch"], defaults: ["default: the experiment's backbone"] },
  laws: { flags: ["--runs", "--seed", "--backbone", "--arch", "--backend"], defaults: ["default: 10", "default: 1", "default: wasm"] },
  forward: {
    flags: ["--weights", "--arch", "--image", "--adapter", "--input", "--out", "--strict", "--backend"],
    defaults: ["default: the checkpoint's", "default: auto"],
  },
  pretrain: {
    flags: ["--out", "--digits", "--epochs", "--seed", "--export", "--backend", "--resume"],
    defaults: ["default: 0,1,2,3,4", "default: 6", "default: 0"],
  },
  sweep: { flags: ["--out", "--workers", "--backend", "--retry-failed", "--dry-run"], defaults: ["default: the sweep file's workers"] },
  script: {
    flags: [
      "--target",
      "--out",
      "--peft",
      "--slurm-time",
      "--slurm-mem",
      "--slurm-cpus",
      "--slurm-partition",
      "--slurm-account",
      "--slurm-throttle",
      "--slurm-setup",
    ],
    defaults: ["default: 2", "default: this installation's"],
  },
  gather: { flags: [], defaults: [] },
  export: { flags: ["--format", "--out"], defaults: [] },
  import: { flags: ["--format", "--weights", "--arch", "--out", "--backend"], defaults: [] },
  "export-images": { flags: ["--layout"], defaults: ["default: folder"] },
  report: { flags: ["--out", "--title"], defaults: ["default: the sweeps' names"] },
  demo: { flags: ["--out", "--epochs", "--backend"], defaults: ["default: a new folder", "default: auto"] },
};

describe("peft --help", () => {
  it("lists every command; with no command it prints the same and exits 2", () => {
    const help = peft("--help");
    expect(help.code).toBe(0);
    for (const name of Object.keys(commands)) expect(help.stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"));
    expect(help.stdout).toContain("exit codes: 0 ok, 1 failure, 2 bad input");
    const none = peft();
    expect(none.code).toBe(2);
    expect(none.stdout).toBe(help.stdout);
  });

  it.each(Object.entries(commands))("peft %s --help: every flag with what it does, its default, and an example", (name, { flags, defaults }) => {
    const r = peft(name, "--help");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const listed = [...(r.stdout.split("\nFLAGS\n")[1] ?? "").split("\n\n")[0]!.matchAll(/^ {2}(--[a-z-]+)\s+\S+.*\S/gm)].map((m) => m[1]);
    expect(listed).toEqual(flags);
    for (const d of defaults) expect(r.stdout).toContain(d);
    expect(r.stdout).toMatch(new RegExp(`EXAMPLES\\n  # .+\\n  peft ${name} `));
    // -h is the same.
    expect(peft(name, "-h").stdout).toBe(r.stdout);
  });

  it("a mistyped flag or command is exit 2 with a suggestion and the usage, on stderr, and nothing else", () => {
    const flag = peft("train", "x.json", "--out", "d", "--epoch", "3");
    expect(flag.code).toBe(2);
    expect(flag.stdout).toBe("");
    expect(flag.stderr).toMatch(/^peft: Unrecognized flag: --epoch in command peft train\n\nDid you mean this\?\n {2}--epochs\n/);
    expect(flag.stderr).toContain("usage: peft train [flags] <FILE>");
    expect(flag.stderr).toContain("peft train --help lists every flag");
    const command = peft("trian", "x.json");
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/Unknown subcommand "trian".*\n\nDid you mean this\?\n {2}train\n/);
    // Its flags are not reported as unknown to `peft` after the suggestion.
    const withFlags = peft("describ", "m.json", "--backbone", "vit-b16");
    expect([withFlags.code, withFlags.stderr]).toEqual([
      2,
      'peft: Unknown subcommand "describ" for "peft"\n\nDid you mean this?\n  describe\n\nusage: peft <subcommand> [flags]\n(peft --help lists every flag, its default and examples)\n',
    ]);
  });

  it("a missing or malformed value names the flag and what it expects (exit 2, no stack trace)", () => {
    for (const [argv, message] of [
      [["train", "--out", "d"], "Missing required argument: FILE"],
      [["train", "x.json"], "Missing required flag: --out"],
      [["train", "x.json", "--out", "d", "--epochs", "0"], 'Invalid value for flag --epochs: "0". Expected: an integer ≥ 1'],
      [["train", "x.json", "--out", "d", "--seed", "one"], "Invalid value for flag --seed"],
      [["train", "x.json", "y.json", "--out", "d"], 'Unexpected positional argument: "y.json"'],
      [["laws", "m.json", "--runs", "2", "--runs", "3"], "--runs"],
    ] as const) {
      const r = peft(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr, argv.join(" ")).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at \S+/);
    }
  });

  it("peft --version prints the package's version", () => {
    expect(peft("--version").stdout).toMatch(/^peft v\d+\.\d+\.\d+\n$/);
  });
});
