import * as tf from "@tensorflow/tfjs-core";

/** What the count wraps of tfjs's webgpu backend (tfjs-backend-webgpu 4.22's backend_webgpu.js). */
interface WebGpuInternals {
  recordAndSubmit(program: { constructor: { name: string }; peftName?: string }, ...rest: unknown[]): void;
  uploadToGPU(dataId: object): void;
  readonly tensorMap: { get(dataId: object): { values: unknown; resource: unknown } | undefined };
}

export interface GpuWork {
  /** Compute dispatches recorded. */
  readonly dispatches: number;
  /** Tensors whose values were made on the host and copied to the GPU. */
  readonly uploads: number;
  /** Dispatches by tfjs program, most first. */
  readonly byProgram: Readonly<Record<string, number>>;
}

/** The dispatches and host-to-GPU tensor uploads of `run` on the webgpu backend; null on another backend. */
export const countGpuWork = async (run: () => Promise<unknown>): Promise<GpuWork | null> => {
  if (tf.getBackend() !== "webgpu") return null;
  const backend = tf.backend() as unknown as WebGpuInternals;
  const [record, upload] = [backend.recordAndSubmit, backend.uploadToGPU];
  const byProgram = new Map<string, number>();
  let uploads = 0;
  backend.recordAndSubmit = function (program, ...rest) {
    // tfjs's programs are classes; ours (ops/webgpuFused.ts) plain objects that carry a name.
    const name = program.peftName ?? program.constructor.name;
    byProgram.set(name, (byProgram.get(name) ?? 0) + 1);
    return record.call(this, program, ...rest);
  };
  backend.uploadToGPU = function (dataId) {
    const data = this.tensorMap.get(dataId);
    if (data !== undefined && data.resource == null && data.values != null) uploads++;
    return upload.call(this, dataId);
  };
  try {
    await run();
  } finally {
    Object.assign(backend, { recordAndSubmit: record, uploadToGPU: upload });
  }
  const sorted = [...byProgram].sort((a, b) => b[1] - a[1]);
  return { dispatches: sorted.reduce((s, [, n]) => s + n, 0), uploads, byProgram: Object.fromEntries(sorted) };
};
