/** Where a run reports how it is going. */
export interface Progress {
  readonly info: (line: string) => void;
  readonly step: (s: { epoch: number; epochs: number; step: number; steps: number; loss: number; lr: number; etaSeconds: number }) => void;
  readonly epoch: (e: { epoch: number; epochs: number; trainLoss: number; valAccuracy: number; seconds: number }) => void;
}

const clock = (s: number): string => {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
};

/** A live bar with loss and ETA on a terminal; one plain line per epoch otherwise. */
export const streamProgress = (stream: NodeJS.WriteStream = process.stderr): Progress => {
  const tty = stream.isTTY === true;
  return {
    info: (line) => stream.write(`${line}\n`),
    step: (s) => {
      if (!tty) return;
      const width = 24;
      const filled = Math.round((width * s.step) / s.steps);
      const bar = "█".repeat(filled) + " ".repeat(width - filled);
      stream.write(`\r\x1b[2Kepoch ${s.epoch + 1}/${s.epochs} ▕${bar}▏ ${s.step}/${s.steps} loss ${s.loss.toFixed(4)} lr ${s.lr.toExponential(1)} eta ${clock(s.etaSeconds)}`);
    },
    epoch: (e) => {
      if (tty) stream.write("\r\x1b[2K");
      stream.write(`epoch ${e.epoch + 1}/${e.epochs}  loss ${e.trainLoss.toFixed(4)}  val ${(100 * e.valAccuracy).toFixed(1)}%  ${e.seconds.toFixed(1)}s\n`);
    },
  };
};

export const silentProgress: Progress = { info: () => {}, step: () => {}, epoch: () => {} };
