import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { join } from "node:path";

/*
 * A private one-node Slurm cluster for tests: Debian's munged, slurmctld and slurmd started
 * directly (no systemd) with their own key, config, ports, state and spool under one folder; jobs
 * run as the user who submits them, so slurmd must run as root.
 */

const onPath = (bin: string): boolean => spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0;

/** Why no cluster can be started here, or null when one can. */
export const slurmMissing = (): string | null => {
  const missing = ["munged", "slurmctld", "slurmd", "sbatch", "scontrol", "sinfo"].filter((b) => !onPath(b));
  if (missing.length > 0) return `not installed: ${missing.join(", ")} (Debian: slurmctld slurmd slurm-client munge)`;
  return process.getuid?.() === 0 ? null : "slurmd must run as root to start jobs";
};

const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });

export interface SlurmCluster {
  /** The config file: SLURM_CONF for sbatch and the other clients. */
  readonly conf: string;
  readonly stop: () => Promise<void>;
}

/** Start the daemons under `dir` and wait until the node takes jobs (or fail with the logs of a daemon that stopped). */
export const startSlurm = async (dir: string): Promise<SlurmCluster> => {
  for (const d of ["state", "spool", "munge"]) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
  const socket = join(dir, "munge", "munge.socket");
  writeFileSync(join(dir, "munge", "munge.key"), randomBytes(128), { mode: 0o600 });
  const conf = join(dir, "slurm.conf");
  writeFileSync(
    conf,
    [
      "ClusterName=peft-test",
      "SlurmctldHost=localhost(127.0.0.1)",
      `SlurmctldPort=${await freePort()}`,
      `SlurmdPort=${await freePort()}`,
      "AuthType=auth/munge",
      `AuthInfo=socket=${socket}`,
      "CredType=cred/munge",
      "SlurmUser=root",
      `StateSaveLocation=${join(dir, "state")}`,
      `SlurmdSpoolDir=${join(dir, "spool")}`,
      `SlurmctldPidFile=${join(dir, "slurmctld.pid")}`,
      `SlurmdPidFile=${join(dir, "slurmd.pid")}`,
      `SlurmctldLogFile=${join(dir, "slurmctld.log")}`,
      `SlurmdLogFile=${join(dir, "slurmd.log")}`,
      "ProctrackType=proctrack/pgid",
      "TaskPlugin=task/none",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_CPU",
      "MpiDefault=none",
      "ReturnToService=2",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "NodeName=peft NodeAddr=127.0.0.1 CPUs=1 State=UNKNOWN",
      "PartitionName=peft Nodes=peft Default=YES MaxTime=INFINITE State=UP",
      "",
    ].join("\n"),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const daemons: { name: string; child: ChildProcess }[] = [];
  const start = (name: string, args: string[]) => {
    const log = openSync(join(dir, `${name}.out`), "a");
    daemons.push({ name, child: spawn(name, args, { env, stdio: ["ignore", log, log] }) });
  };
  const stop = async () => {
    for (const { child } of daemons.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await gone;
    }
  };
  const logs = () =>
    ["munged.out", "munge/munged.log", "slurmctld.out", "slurmctld.log", "slurmd.out", "slurmd.log"]
      .filter((f) => existsSync(join(dir, f)))
      .map((f) => `${f}:\n${readFileSync(join(dir, f), "utf8").trimEnd().split("\n").slice(-8).join("\n")}`)
      .join("\n");
  /** Wait for `ready`; a daemon that exits first fails the start with the logs. */
  const until = async (ready: () => boolean) => {
    while (!ready()) {
      const dead = daemons.find((d) => d.child.exitCode !== null || d.child.signalCode !== null);
      if (dead !== undefined) {
        await stop();
        throw new Error(`${dead.name} stopped while the test cluster started\n${logs()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const m = join(dir, "munge");
  start("munged", ["-F", "-f", "-S", socket, `--key-file=${m}/munge.key`, `--pid-file=${m}/munged.pid`, `--log-file=${m}/munged.log`, `--seed-file=${m}/seed`]);
  await until(() => existsSync(socket));
  start("slurmctld", ["-D", "-i"]);
  start("slurmd", ["-D", "-N", "peft"]);
  await until(() => spawnSync("sinfo", ["-h", "-o", "%T"], { env, encoding: "utf8" }).stdout.trim() === "idle");
  return { conf, stop };
};
