import { isLeft } from "fp-ts/lib/Either.js";
import { MethodCodec, decodeMethod } from "../dsl/codecs.js";
import type { Method } from "../dsl/method.js";
import { readSafetensors, toTensorData, writeSafetensors, SafetensorsError } from "../models/safetensors.js";
import type { AdapterParam, AdapterValue } from "./adapterParams.js";
import { MethodError } from "./methodError.js";
import { resolve } from "./resolved.js";
import { decodeVitConfig, type VitConfig } from "../models/vitConfig.js";
import type { Program } from "./compile/program.js";

export const adapterFormat = "peft-dsl.adapter/1";

/** How one adapter tensor enters ΔW, so the file can be applied without this library. */
export interface TensorLayout {
  /** The backbone parameter it changes (timm name). */
  readonly param: string;
  /** Rows of that parameter (as [dout, din]) it covers; null for all of them. */
  readonly rows: readonly [number, number] | null;
  readonly role: AdapterParam["role"];
  /** LoRA's s in ΔW = s · B A; the spectral α in ΔW = α·Re(IDFT2(S)). */
  readonly scale?: number;
}

export interface AdapterFile {
  readonly method: Method;
  /** The adapted model's config (classes = the task's). */
  readonly config: VitConfig;
  /** "reset": the base head was replaced by zeros of the task's shape before adaptation. */
  readonly head: "reset" | "keep";
  readonly values: ReadonlyMap<string, AdapterValue>;
  readonly layout: Readonly<Record<string, TensorLayout>>;
}

/** adapter.safetensors: the method's own tensors, its JSON, the layout and the provenance of estimated state in the metadata. */
export const adapterBytes = async (program: Program, head: "reset" | "keep", provenance: readonly unknown[] = []): Promise<Uint8Array> => {
  const values = await program.values();
  const layout: Record<string, TensorLayout> = {};
  for (const p of program.params) {
    const { site } = p.placement;
    const scale = p.leaf?.primitive.layoutScale?.(p.leaf.node);
    layout[p.name] = { param: site.param, rows: site.rows, role: p.role, ...(scale === undefined ? {} : { scale }) };
  }
  return writeSafetensors(
    program.params.map((p) => ({ name: p.name, shape: p.shape, data: values.get(p.name)! })),
    {
      format: adapterFormat,
      method: JSON.stringify(MethodCodec.encode(program.method)),
      config: JSON.stringify(program.config),
      head,
      layout: JSON.stringify(layout),
      // How estimated state (S²FT's tours and positions) was obtained: data, batches, head, per-site diagnostics.
      provenance: JSON.stringify(provenance),
    },
  );
};

/** The file holds exactly the tensors its own method and config imply, each of its exact shape. */
const checkTensors = (tensors: ReadonlyMap<string, { readonly shape: readonly number[] }>, method: Method, config: VitConfig, source: string): void => {
  let expected: readonly AdapterParam[];
  try {
    expected = resolve(method, config).params;
  } catch (e) {
    if (e instanceof MethodError) throw new SafetensorsError(`${source}: its method does not fit its own config: ${e.message}`);
    throw e;
  }
  for (const p of expected) {
    const t = tensors.get(p.name);
    if (t === undefined) throw new SafetensorsError(`${source}: tensor ${p.name} is missing (target ${p.placement.target} of its method needs it)`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i]))
      throw new SafetensorsError(`${source}: tensor ${p.name} has shape ${JSON.stringify(t.shape)}, its method needs ${JSON.stringify(p.shape)}`);
  }
  const names = new Set(expected.map((p) => p.name));
  const extra = [...tensors.keys()].find((k) => !names.has(k));
  if (extra !== undefined) throw new SafetensorsError(`${source}: tensor ${extra} is not one its method has`);
};

export const readAdapter = (bytes: Uint8Array, source: string): AdapterFile => {
  const file = readSafetensors(bytes, source);
  const m = file.metadata;
  if (m.format !== adapterFormat)
    throw new SafetensorsError(`${source}: not a peft-dsl adapter (metadata format is ${JSON.stringify(m.format)}, expected "${adapterFormat}")`);
  const parse = (key: string): unknown => {
    try {
      return JSON.parse(m[key] ?? "");
    } catch {
      throw new SafetensorsError(`${source}: metadata "${key}" is missing or not JSON`);
    }
  };
  const method = decodeMethod(parse("method"));
  if (isLeft(method)) throw new SafetensorsError(`${source}: metadata method: ${method.left.join("; ")}`);
  const config = decodeVitConfig(parse("config"));
  if (isLeft(config)) throw new SafetensorsError(`${source}: metadata config: ${config.left.join("; ")}`);
  const head = m.head === "keep" ? "keep" : "reset";
  checkTensors(file.tensors, method.right, config.right, source);
  const values = new Map([...file.tensors].map(([k, raw]) => [k, toTensorData(raw, k)]));
  return { method: method.right, config: config.right, head, values, layout: parse("layout") as Record<string, TensorLayout> };
};
