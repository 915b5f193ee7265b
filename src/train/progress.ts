import cliProgress from "cli-progress";

/** Where a run reports how it is going. */
export interface Progress {
  readonly info: (line: string) => void;
  readonly step: (s: { epoch: number; epochs: number; step: number; steps: number; loss: number; lr: number; etaSeconds: number }) => void;
  readonly epoch: (e: { epoch: number; epochs: number; trainLoss: number; valAccuracy: number; seconds: number }) => void;
  /** Counted work a user waits on (decoding images, evaluating, a prelude): `done` of `total` so far. */
  readonly counted: (label: string, done: number, total: number) => void;
}

const clock = (s: number): string => {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
};

const barStyle = { barCompleteChar: "█", barIncompleteChar: " ", barsize: 24, hideCursor: null, clearOnComplete: true };

/** Where progress is written: a terminal's stream or any other (structural, so the published types need no @types/node). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly write: (text: string) => unknown;
}

/** Off a terminal, the longest a run in progress stays silent: a line is due after this many seconds. */
const quietSeconds = 5;

/**
 * On a terminal, live bars (cli-progress) with ETA: steps with loss and learning rate, counted
 * work with its rate. Otherwise plain lines at every tenth of an epoch's steps and of counted
 * work, and whenever 5 s have passed since the last line; one per epoch. `now` (milliseconds) is
 * the clock those 5 s are read on.
 */
export const streamProgress = (stream: ProgressStream = process.stderr, now: () => number = () => performance.now()): Progress => {
  const tty = stream.isTTY === true;
  let lastLine = now();
  const write = (line: string) => {
    lastLine = now();
    stream.write(`${line}\n`);
  };
  let bar: { readonly kind: string; readonly bar: cliProgress.SingleBar } | null = null;
  const stop = () => {
    bar?.bar.stop();
    bar = null;
  };
  const barFor = (kind: string, format: string, total: number, payload: object) => {
    if (bar?.kind !== kind) {
      stop();
      bar = { kind, bar: new cliProgress.SingleBar({ ...barStyle, stream: stream as NodeJS.WritableStream, format }) };
      bar.bar.start(total, 0, payload);
    }
    return bar.bar;
  };
  const printedTenth = new Map<string, number>();
  /** Off a terminal: true when `done` of `total` crosses the next tenth of `label`'s work, or the stream has been quiet too long. */
  const lineDue = (label: string, done: number, total: number): boolean => {
    const tenth = Math.floor((10 * done) / total);
    const due = tenth > (printedTenth.get(label) ?? 0) || now() - lastLine >= 1000 * quietSeconds;
    if (due) printedTenth.set(label, tenth);
    if (done >= total) printedTenth.delete(label);
    return due;
  };
  return {
    info: (line) => {
      stop();
      write(line);
    },
    step: (s) => {
      const payload = { epochs: `${s.epoch + 1}/${s.epochs}`, loss: s.loss.toFixed(4), lr: s.lr.toExponential(1), left: clock(s.etaSeconds) };
      if (!tty) {
        if (lineDue("steps", s.step, s.steps))
          write(`epoch ${payload.epochs} step ${s.step}/${s.steps} loss ${payload.loss} lr ${payload.lr} eta ${payload.left}`);
        return;
      }
      barFor(`epoch ${s.epoch}`, "epoch {epochs} ▕{bar}▏ {value}/{total} loss {loss} lr {lr} eta {left}", s.steps, payload).update(s.step, payload);
    },
    epoch: (e) => {
      stop();
      write(
        `epoch ${e.epoch + 1}/${e.epochs}  loss ${e.trainLoss.toFixed(4)}  ${Number.isFinite(e.valAccuracy) ? `val ${(100 * e.valAccuracy).toFixed(1)}%` : "no val set"}  ${e.seconds.toFixed(1)}s`,
      );
    },
    counted: (label, done, total) => {
      if (tty) {
        barFor(`counted ${label}`, `${label} ▕{bar}▏ {value}/{total} eta {eta_formatted}`, total, {}).update(done);
        if (done >= total) stop();
        return;
      }
      if (lineDue(label, done, total)) write(`${label}: ${done}/${total}`);
    },
  };
};

export const silentProgress: Progress = { info: () => {}, step: () => {}, epoch: () => {}, counted: () => {} };
