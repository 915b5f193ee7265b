import { describe, expect, it } from "vitest";
import { streamProgress } from "../../src/train/progress.js";

/** A stream that keeps what is written; a terminal or not. */
const capture = (isTTY: boolean) => {
  const chunks: string[] = [];
  const stream = {
    isTTY,
    columns: 120,
    write: (s: string) => (chunks.push(s), true),
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
    on: () => stream,
    removeListener: () => stream,
  };
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join("") };
};

describe("progress", () => {
  it("counted work off a terminal: a line at every tenth and at the end, for each run of the work", () => {
    const out = capture(false);
    const p = streamProgress(out.stream);
    for (let done = 1; done <= 25; done++) p.counted("decoding images", done, 25);
    p.counted("testing", 7, 7);
    for (let done = 1; done <= 3; done++) p.counted("decoding images", done, 3);
    const lines = out.text().trim().split("\n");
    expect(lines.filter((l) => l.startsWith("decoding images")).map((l) => l.split(": ")[1])).toEqual([
      "3/25",
      "5/25",
      "8/25",
      "10/25",
      "13/25",
      "15/25",
      "18/25",
      "20/25",
      "23/25",
      "25/25",
      "1/3",
      "2/3",
      "3/3",
    ]);
    expect(lines).toContain("testing: 7/7");
  });

  it("steps off a terminal: a line at every tenth of the epoch with loss and ETA, then the epoch's line", () => {
    const out = capture(false);
    const p = streamProgress(out.stream);
    for (let step = 1; step <= 20; step++) p.step({ epoch: 0, epochs: 2, step, steps: 20, loss: 1 / step, lr: 1e-3, etaSeconds: 125 - step });
    p.epoch({ epoch: 0, epochs: 2, trainLoss: 0.2, valAccuracy: 0.5, seconds: 3 });
    const lines = out.text().trim().split("\n");
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe("epoch 1/2 step 2/20 loss 0.5000 lr 1.0e-3 eta 2:03");
    expect(lines[10]).toBe("epoch 1/2  loss 0.2000  val 50.0%  3.0s");
  });

  it("off a terminal, a long piece of work between tenths still gets a line once 5 s pass without one", () => {
    const out = capture(false);
    let clock = 0;
    const p = streamProgress(out.stream, () => clock);
    // 100 micro-batches of 2 s each: the tenths alone would leave 20 s between lines.
    for (let done = 1; done <= 100; done++) {
      clock += 2000;
      p.counted("micro-batches", done, 100);
    }
    const counts = out
      .text()
      .trim()
      .split("\n")
      .map((l) => Number(l.split(": ")[1]!.split("/")[0]));
    expect(counts.slice(0, 4)).toEqual([3, 6, 9, 10]);
    expect(Math.max(...counts.slice(1).map((c, i) => c - counts[i]!))).toBe(3);
    // A line that was just written resets the wait: the next is due 5 s after it.
    p.info("evaluating…");
    clock += 4000;
    p.counted("testing", 1, 100);
    expect(out.text()).not.toContain("testing: 1/100");
    clock += 1000;
    p.counted("testing", 2, 100);
    expect(out.text()).toContain("testing: 2/100\n");
  });

  it("on a terminal: a bar with the count and an ETA, cleared before the next line", () => {
    const out = capture(true);
    const p = streamProgress(out.stream);
    p.counted("decoding images", 1, 4);
    p.counted("decoding images", 4, 4);
    p.info("done");
    expect(out.text()).toMatch(/decoding images ▕ +▏ 0\/4 eta/);
    expect(out.text()).toMatch(/decoding images ▕█{24}▏ 4\/4 eta 0s/);
    expect(out.text()).toContain("done\n");
  });
});
