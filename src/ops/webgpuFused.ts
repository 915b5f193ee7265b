import * as tf from "@tensorflow/tfjs-core";
import { geluGradKernel, geluKernel } from "./wasmGelu.js";
import { layerNormGradKernel, layerNormKernel } from "./wasmLayerNorm.js";

/*
 * LayerNorm and GELU, forward and backward, as fused WGSL programs on tfjs's webgpu backend:
 * composed from tfjs ops they are ~10 dispatches forward and ~20 backward per LayerNorm, ~5 and
 * ~8 per GELU, and on WebGPU each dispatch's submission is what a step costs. Same kernel names
 * as the wasm ones (kernels/), so ops/layerNorm.ts and ops/gelu.ts take them where registered.
 */

/** A program as tfjs-backend-webgpu 4.22 runs it (its WebGPUProgram interface). */
interface Program {
  /** What the bench's dispatch count calls it (tfjs rewrites shaderKey with the shapes). */
  readonly peftName: string;
  readonly variableNames: string[];
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number];
  readonly uniforms: string;
  readonly getUserCode: () => string;
}

type Uniform = { type: "int32" | "float32"; data: number[] };

interface WebGpuBackend {
  runWebGPUProgram(program: Program, inputs: tf.TensorInfo[], dtype: "float32", uniforms: Uniform[]): tf.TensorInfo;
}

/** Threads of a workgroup: one workgroup per row for row reductions, one thread per element otherwise. */
const lanes = 64;

/** A flat program of `groups` workgroups (tfjs reshapes the dispatch past the device's per-dimension limit). */
const program = (key: string, inputs: string[], outputShape: number[], groups: number, uniforms: string, body: string): Program => ({
  peftName: `peft_${key}`,
  variableNames: inputs,
  outputShape,
  shaderKey: `peft_${key}`,
  dispatchLayout: { x: [0] },
  dispatch: [groups, 1, 1],
  workgroupSize: [lanes, 1, 1],
  uniforms,
  getUserCode: () => body,
});

/** Φ(x) from e = e^{−x²/2}; erf by Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7), as kernels/gelu.c. */
const normalCdf = `
  fn normalCdf(x : f32, e : f32) -> f32 {
    let z = x * 0.70710678;
    let t = 1.0 / (1.0 + 0.3275911 * abs(z));
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let erfAbs = 1.0 - poly * e;
    return 0.5 * (1.0 + select(erfAbs, -erfAbs, z < 0.0));
  }`;

/** The sum over a workgroup's lanes, the same in every lane (called in uniform control flow). */
const laneSum = `
  var<workgroup> partial : array<f32, ${lanes}>;
  fn laneSum(v : f32) -> f32 {
    partial[localId.x] = v;
    workgroupBarrier();
    for (var s = ${lanes / 2}u; s > 0u; s = s >> 1u) {
      if (localId.x < s) { partial[localId.x] = partial[localId.x] + partial[localId.x + s]; }
      workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
  }`;

/** Row r's mean and 1/√(var + ε) (timm's biased variance), two passes over the row, in every lane. */
const rowStats = `
  fn rowStats(r : i32) -> vec2<f32> {
    let valid = r < uniforms.rows;
    let base = r * uniforms.d;
    let lane = i32(localId.x);
    var s = 0.0;
    if (valid) { for (var j = lane; j < uniforms.d; j = j + ${lanes}) { s = s + X[base + j]; } }
    let mean = laneSum(s) / f32(uniforms.d);
    var q = 0.0;
    if (valid) { for (var j = lane; j < uniforms.d; j = j + ${lanes}) { let c = X[base + j] - mean; q = q + c * c; } }
    return vec2<f32>(mean, inverseSqrt(laneSum(q) / f32(uniforms.d) + uniforms.eps));
  }`;

const rowUniforms = "rows : i32, d : i32, eps : f32,";

/** A program of one workgroup per row that has row r's `stats` (mean, 1/σ) in every lane and then runs `write`. */
const withRowStats = (key: string, inputs: string[], outputShape: number[], rows: number, write: string) =>
  program(
    key,
    inputs,
    outputShape,
    rows,
    rowUniforms,
    `${laneSum}${rowStats}
  fn main(index : i32) {
    let r = index / ${lanes};
    let stats = rowStats(r);
    ${write}
  }`,
  );

const layerNormForward = (rows: number, d: number) =>
  withRowStats(
    "layer_norm",
    ["X", "G", "B"],
    [rows, d],
    rows,
    `if (r < uniforms.rows) {
      for (var j = i32(localId.x); j < uniforms.d; j = j + ${lanes}) {
        let at = r * uniforms.d + j;
        result[at] = (X[at] - stats.x) * stats.y * G[j] + B[j];
      }
    }`,
  );

/** Each row's [mean, 1/σ], for the backward programs. */
const layerNormStats = (rows: number) =>
  withRowStats(
    "layer_norm_stats",
    ["X"],
    [rows, 2],
    rows,
    "if (r < uniforms.rows && localId.x == 0u) { result[2 * r] = stats.x; result[2 * r + 1] = stats.y; }",
  );

/** dx = (1/σ)(g − mean(g) − x̂ mean(g x̂)), g = dy γ, x̂ = (x − μ)/σ, row by row. */
const layerNormDx = (rows: number, d: number) =>
  program(
    "layer_norm_dx",
    ["X", "G", "DY", "S"],
    [rows, d],
    rows,
    rowUniforms,
    `${laneSum}
  fn main(index : i32) {
    let r = index / ${lanes};
    let valid = r < uniforms.rows;
    let rr = min(r, uniforms.rows - 1);
    let mean = S[2 * rr];
    let rstd = S[2 * rr + 1];
    let base = rr * uniforms.d;
    var sg = 0.0;
    var sgx = 0.0;
    if (valid) {
      for (var j = i32(localId.x); j < uniforms.d; j = j + ${lanes}) {
        let g = DY[base + j] * G[j];
        sg = sg + g;
        sgx = sgx + g * (X[base + j] - mean) * rstd;
      }
    }
    let meanG = laneSum(sg) / f32(uniforms.d);
    let meanGx = laneSum(sgx) / f32(uniforms.d);
    if (valid) {
      for (var j = i32(localId.x); j < uniforms.d; j = j + ${lanes}) {
        let xhat = (X[base + j] - mean) * rstd;
        result[base + j] = rstd * (DY[base + j] * G[j] - meanG - xhat * meanGx);
      }
    }
  }`,
  );

/** dγ_j = Σ_r dy x̂ (withXhat) or dβ_j = Σ_r dy, one thread per column. */
const layerNormColumnSum = (rows: number, d: number, withXhat: boolean) =>
  program(
    withXhat ? "layer_norm_dgamma" : "layer_norm_dbeta",
    // A binding the shader does not read is not in its layout: dβ reads dy alone.
    withXhat ? ["X", "DY", "S"] : ["DY"],
    [d],
    Math.ceil(d / lanes),
    rowUniforms,
    `
  fn main(index : i32) {
    if (index < uniforms.d) {
      var s = 0.0;
      for (var r = 0; r < uniforms.rows; r = r + 1) {
        let at = r * uniforms.d + index;
        s = s + DY[at]${withXhat ? " * (X[at] - S[2 * r]) * S[2 * r + 1]" : ""};
      }
      result[index] = s;
    }
  }`,
  );

const elementwise = (key: string, inputs: string[], shape: number[], body: string) => {
  const n = tf.util.sizeFromShape(shape);
  return program(
    key,
    inputs,
    shape,
    Math.ceil(n / lanes),
    "n : i32,",
    `${normalCdf}\n  fn main(index : i32) {\n    if (index < uniforms.n) {\n${body}\n    }\n  }`,
  );
};

/** y = x Φ(x). */
const geluForward = (shape: number[]) =>
  elementwise("gelu", ["X"], shape, "      let x = X[index];\n      result[index] = x * normalCdf(x, exp(-0.5 * x * x));");

/** dx = dy (Φ(x) + x φ(x)), φ(x) = e^{−x²/2}/√(2π). */
const geluBackward = (shape: number[]) =>
  elementwise(
    "gelu_grad",
    ["X", "DY"],
    shape,
    "      let x = X[index];\n      let e = exp(-0.5 * x * x);\n      result[index] = DY[index] * (normalCdf(x, e) + x * e * 0.39894228);",
  );

/** Register the fused LayerNorm and GELU kernels on the webgpu backend; once per process. */
export const installWebGpuFused = (): void => {
  if (tf.getKernel(geluKernel, "webgpu") !== undefined) return;
  const gpu = (args: { backend: unknown }) => args.backend as WebGpuBackend;
  const rowsOf = (x: tf.TensorInfo) => [x.shape[0]!, x.shape[1]!] as const;
  const uniforms = (rows: number, d: number, eps: number): Uniform[] => [
    { type: "int32", data: [rows] },
    { type: "int32", data: [d] },
    { type: "float32", data: [eps] },
  ];
  const count = (shape: number[]): Uniform[] => [{ type: "int32", data: [tf.util.sizeFromShape(shape)] }];
  const register = (kernelName: string, kernelFunc: tf.KernelFunc) => tf.registerKernel({ kernelName, backendName: "webgpu", kernelFunc });
  register(layerNormKernel, (args) => {
    const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
    const [rows, d] = rowsOf(x!);
    return gpu(args).runWebGPUProgram(layerNormForward(rows, d), [x!, gamma!, beta!], "float32", uniforms(rows, d, args.attrs!.eps as number));
  });
  register(layerNormGradKernel, (args) => {
    const { x, gamma, dy } = args.inputs as Record<string, tf.TensorInfo>;
    const [rows, d] = rowsOf(x!);
    const u = uniforms(rows, d, args.attrs!.eps as number);
    const backend = gpu(args);
    const stats = backend.runWebGPUProgram(layerNormStats(rows), [x!], "float32", u);
    const out = [
      backend.runWebGPUProgram(layerNormDx(rows, d), [x!, gamma!, dy!, stats], "float32", u),
      backend.runWebGPUProgram(layerNormColumnSum(rows, d, true), [x!, dy!, stats], "float32", u),
      backend.runWebGPUProgram(layerNormColumnSum(rows, d, false), [dy!], "float32", u),
    ];
    (args.backend as tf.KernelBackend).disposeData(stats.dataId);
    return out;
  });
  register(geluKernel, (args) => {
    const { x } = args.inputs as Record<string, tf.TensorInfo>;
    return gpu(args).runWebGPUProgram(geluForward([...x!.shape]), [x!], "float32", count([...x!.shape]));
  });
  register(geluGradKernel, (args) => {
    const { x, dy } = args.inputs as Record<string, tf.TensorInfo>;
    return gpu(args).runWebGPUProgram(geluBackward([...x!.shape]), [x!, dy!], "float32", count([...x!.shape]));
  });
};
