import { Worker } from "node:worker_threads";

/*
 * A second thread for our compiled kernels. tfjs's wasm backend runs its own matmuls on a thread
 * pool but everything else on the main thread, so while one of our kernels runs, the second core
 * idles. The helper instantiates the same module over the same shared memory and runs one half
 * of a call while the main thread runs the other; the main thread waits on an atomic flag. The
 * kernels never touch the shadow stack (test/ops/kernelHelper.test.ts checks), so two instances
 * can share one memory.
 */

// state[0]: 0 idle, 1 + function index = a call posted; state[1]: 1 once the helper is up;
// state[2]: argument count; state[3]: 1 if the last call threw. Arguments as float64 from byte 16,
// the last error's message (UTF-8, NUL-padded) in the final bytes.
const messageBytes = 256;
const helperSource = `
const { workerData: { module, memory, control, names } } = require("node:worker_threads");
const state = new Int32Array(control, 0, 4);
const args = new Float64Array(control, 16, 16);
const message = new Uint8Array(control, 16 + 8 * 16);
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
Atomics.store(state, 1, 1);
for (;;) {
  Atomics.wait(state, 0, 0);
  try {
    kernels[names[Atomics.load(state, 0) - 1]](...args.subarray(0, state[2]));
    state[3] = 0;
  } catch (e) {
    message.fill(0);
    message.set(new TextEncoder().encode(String(e && e.message)).subarray(0, message.length - 1));
    state[3] = 1;
  }
  Atomics.store(state, 0, 0);
  Atomics.notify(state, 0);
}`;

let handedOver = 0;
/** How many calls' halves helper threads have run in this process (tests check the split happens). */
export const helperCalls = (): number => handedOver;
let takenBack = 0;
/** How many halves the main thread ran again after the helper failed them. */
export const helperFailures = (): number => takenBack;

const starting: Int32Array[] = [];
/** Whether every helper thread started so far is up (a test waits for it rather than for a guessed time). */
export const helpersUp = (): boolean => starting.every((state) => Atomics.load(state, 1) === 1);

/** How long the main thread waits for the helper's half before it gives up on it. */
const answerMs = 60_000;

export interface KernelHelper {
  /** Run `name(...mine)` here and `name(...theirs)` on the helper at once; both here until the helper is up. */
  readonly split: (name: string, mine: readonly number[], theirs: readonly number[]) => void;
}

export const kernelHelper = (module: WebAssembly.Module, memory: WebAssembly.Memory, kernels: Record<string, (...args: number[]) => void>): KernelHelper => {
  const names = Object.keys(kernels);
  const control = new SharedArrayBuffer(16 + 8 * 16 + messageBytes);
  const state = new Int32Array(control, 0, 4);
  const args = new Float64Array(control, 16, 16);
  const message = new Uint8Array(control, 16 + 8 * 16);
  starting.push(state);
  // The helper only ever waits on the flag: it must not keep the process alive. Its source is a
  // CommonJS script whatever flags the process has (--input-type=module would make it a module).
  new Worker(helperSource, { eval: true, execArgv: [], workerData: { module, memory, control, names } }).unref();
  return {
    split: (name, mine, theirs) => {
      const run = kernels[name]!;
      if (Atomics.load(state, 1) !== 1) {
        run(...mine);
        run(...theirs);
        return;
      }
      args.set(theirs);
      state[2] = theirs.length;
      Atomics.store(state, 0, 1 + names.indexOf(name));
      Atomics.notify(state, 0);
      run(...mine);
      for (let posted = Atomics.load(state, 0); posted !== 0; posted = Atomics.load(state, 0)) {
        if (Atomics.wait(state, 0, posted, answerMs) === "timed-out")
          throw new Error(`the kernel helper thread did not finish ${name} within ${answerMs / 1000} s`);
      }
      if (state[3] === 1) {
        // The halves write disjoint outputs and read only inputs: the main thread can redo the
        // helper's half. Said once, since it costs the parallelism.
        if (takenBack++ === 0)
          process.emitWarning(
            `the kernel helper thread failed in ${name} (${new TextDecoder().decode(message.slice()).replace(/\0+$/, "")}); the main thread ran its half`,
          );
        run(...theirs);
        return;
      }
      handedOver++;
    },
  };
};
