import { lowRankScale } from "../../primitives/lowRank.js";
import type { Backbone } from "../../models/backbone.js";
import type { NamedTensor } from "../../models/safetensors.js";
import { vitParams } from "../../models/vitParams.js";
import type { AdapterFile } from "../adapterFile.js";
import type { AdapterParam } from "../adapterParams.js";
import { leaves, type Leaf } from "../leaves.js";
import { MethodError } from "../methodError.js";
import { resolve } from "../resolved.js";

/** A Hugging Face PEFT adapter directory: adapter_config.json and adapter_model.safetensors. */
export interface HfPeftAdapter {
  readonly config: Record<string, unknown>;
  readonly tensors: NamedTensor[];
}

/** timm's module of a parameter (`blocks.0.attn.qkv.weight` → `blocks.0.attn.qkv`); null for the model's own parameters. */
export const moduleOf = (param: string): string | null => {
  const dot = param.lastIndexOf(".");
  return dot < 0 ? null : param.slice(0, dot);
};

const key = (module: string, rest: string) => `base_model.model.${module}.${rest}`;

/** Keys of HF PEFT's rank_pattern / alpha_pattern are regular expressions matched at a dotted suffix: escape the dots. */
const patternKey = (module: string) => module.replace(/\./g, "\\.");

interface LoraPiece {
  readonly rows: readonly [number, number] | null;
  readonly rank: number;
  readonly scale: number;
  readonly a: Float32Array;
  readonly b: Float32Array;
}
interface FourierPiece {
  readonly n: number;
  readonly scale: number;
  readonly seed: number;
  readonly spectrum: Float32Array;
}

const reasons: Readonly<Record<string, string>> = {
  Rescale: "RLRR's rescaling (s_l s_rᵀ) ⊙ W has no HF PEFT tuner",
  ScaleShift: "SSF's scale-and-shift has no HF PEFT tuner",
  ParallelAdapter: "AdaptFormer's parallel module has no HF PEFT tuner",
};

/**
 * Our adapter in Hugging Face PEFT's format, so that
 * `PeftModel.from_pretrained(timm.create_model(arch, num_classes=k), DIR)` computes the same model:
 * LoRA on whole linears (or on row ranges of one, as one LoRA of the summed rank whose B is zero on
 * the rows a piece does not touch — the q/v thirds of timm's fused qkv), FourierFT on whole linears
 * with positions drawn as HF PEFT redraws them (torch's randperm), and `full` targets and a reset
 * head as `modules_to_save`, their values read from the run's merged backbone (a module HF PEFT
 * saves whole is one no LoRA or FourierFT touches, so its merged value is its trained value).
 * Anything HF PEFT cannot express is a MethodError naming the target.
 */
export const toHfPeft = (adapter: AdapterFile, merged: Backbone, architecture: string): HfPeftAdapter => {
  const { placements, params } = resolve(adapter.method, adapter.config);
  const value = (p: AdapterParam) => adapter.values.get(p.name) as Float32Array;
  const lora = new Map<string, LoraPiece[]>();
  const fourier = new Map<string, FourierPiece>();
  const fullModules = new Set<string>();
  const ownerOf = new Map<string, number>();
  for (const placement of placements) {
    const at = `targets[${placement.target}]`;
    const { site } = placement;
    const mine = params.filter((p) => p.placement === placement);
    if (mine.some((p) => p.leaf === null)) throw new MethodError(at, `a permuted ΔW on ${site.name} has no HF PEFT tuner; use merged.safetensors`);
    const byLeaf = (leaf: Leaf, role: AdapterParam["role"]) => value(mine.find((p) => p.leaf?.prefix === leaf.prefix && p.role === role)!);
    for (const leaf of leaves(placement.transform)) {
      const node = leaf.node;
      if (leaf.quantized) throw new MethodError(at, `a quantized (1-bit) transform on ${site.name} has no HF PEFT tuner; use merged.safetensors`);
      const module = moduleOf(site.param);
      if (node._tag === "Full") {
        if (module === null)
          throw new MethodError(
            at,
            `${site.param} is a parameter of the VisionTransformer itself, not of a module: HF PEFT's modules_to_save holds modules; use merged.safetensors`,
          );
        fullModules.add(module);
        continue;
      }
      if (node._tag !== "LowRank" && node._tag !== "Spectral")
        throw new MethodError(at, `${reasons[node._tag] ?? `${node._tag} has no HF PEFT tuner`} (on ${site.name}); use merged.safetensors`);
      ownerOf.set(module!, placement.target);
      if (node._tag === "LowRank") {
        lora.set(module!, [
          ...(lora.get(module!) ?? []),
          { rows: site.rows, rank: node.rank, scale: lowRankScale(node), a: byLeaf(leaf, "lora_A"), b: byLeaf(leaf, "lora_B") },
        ]);
        continue;
      }
      if (site.rows !== null)
        throw new MethodError(
          at,
          `FourierFT on ${site.name}, a third of the fused qkv: HF PEFT's FourierFT spans a whole nn.Linear (its spectrum covers all of qkv); use merged.safetensors`,
        );
      if (site.param.startsWith("patch_embed."))
        throw new MethodError(at, "FourierFT on the patch embedding, a Conv2d: HF PEFT's FourierFT takes nn.Linear only; use merged.safetensors");
      if (node.positions._tag !== "TorchRandperm") {
        throw new MethodError(
          at,
          `FourierFT positions ${JSON.stringify(node.positions)} on ${site.name}: HF PEFT stores no positions and redraws them with torch.randperm, so only spectra drawn that way export; train with positions {"_tag": "TorchRandperm", "seed": S}`,
        );
      }
      if (fourier.has(module!)) throw new MethodError(at, `two spectra on ${module}: HF PEFT's FourierFT holds one per module`);
      fourier.set(module!, { n: node.coefficients, scale: node.scale, seed: node.positions.seed, spectrum: byLeaf(leaf, "spectrum") });
    }
  }
  if (lora.size > 0 && fourier.size > 0)
    throw new MethodError("targets", "LoRA and FourierFT together: an HF PEFT adapter holds one tuner type; use merged.safetensors");
  const saved = [...new Set([...fullModules, ...(adapter.head === "reset" ? ["head"] : [])])];
  for (const m of saved) {
    if (ownerOf.has(m))
      throw new MethodError(
        `targets[${ownerOf.get(m)}]`,
        `${m} is both adapted and fully trained: HF PEFT's modules_to_save replaces the whole module; use merged.safetensors`,
      );
  }
  const tensors: NamedTensor[] = saved.flatMap((m) =>
    vitParams(merged.config)
      .filter((p) => moduleOf(p.name) === m)
      .map((p) => ({ name: key(m, p.name.slice(m.length + 1)), shape: p.shape, data: merged.weights.get(p.name)!.data })),
  );
  const common = {
    task_type: null,
    // The pretrained model the run started from, when the weights name it (the demo backbone does); else its timm architecture.
    base_model_name_or_path: merged.timm?.name ?? architecture,
    inference_mode: true,
    bias: "none",
    fan_in_fan_out: false,
    modules_to_save: saved.length > 0 ? saved : null,
  };
  if (fourier.size > 0) {
    const [first] = fourier.values();
    for (const [m, f] of fourier) {
      if (f.scale !== first!.scale || f.seed !== first!.seed)
        throw new MethodError(
          `targets[${ownerOf.get(m)}]`,
          `FourierFT scaling ${f.scale} and seed ${f.seed} on ${m} differ from ${first!.scale} and ${first!.seed} elsewhere: HF PEFT has one scaling and one random_loc_seed per adapter`,
        );
      tensors.push({ name: key(m, "fourierft_spectrum"), shape: [f.n], data: f.spectrum });
    }
    const nPattern = Object.fromEntries([...fourier].filter(([, f]) => f.n !== first!.n).map(([m, f]) => [patternKey(m), f.n]));
    return {
      config: {
        ...common,
        peft_type: "FOURIERFT",
        target_modules: [...fourier.keys()],
        n_frequency: first!.n,
        scaling: first!.scale,
        random_loc_seed: first!.seed,
        n_frequency_pattern: nPattern,
        init_weights: false,
      },
      tensors,
    };
  }
  const ranks = new Map<string, { r: number; alpha: number }>();
  for (const [m, pieces] of lora) {
    const { a, b, r, alpha } = fusedLora(m, pieces, merged);
    ranks.set(m, { r, alpha });
    tensors.push({ name: key(m, "lora_A.weight"), shape: a.shape, data: a.data }, { name: key(m, "lora_B.weight"), shape: b.shape, data: b.data });
  }
  // The most frequent (r, α) is the adapter's; the others go to rank_pattern / alpha_pattern.
  const tally = new Map<string, number>();
  for (const x of ranks.values()) tally.set(JSON.stringify(x), (tally.get(JSON.stringify(x)) ?? 0) + 1);
  const usual = JSON.parse([...tally].sort((x, y) => y[1] - x[1])[0]![0]) as { r: number; alpha: number };
  return {
    config: {
      ...common,
      peft_type: "LORA",
      target_modules: [...ranks.keys()],
      r: usual.r,
      lora_alpha: usual.alpha,
      lora_dropout: 0,
      use_rslora: false,
      use_dora: false,
      init_lora_weights: true,
      rank_pattern: Object.fromEntries([...ranks].filter(([, x]) => x.r !== usual.r).map(([m, x]) => [patternKey(m), x.r])),
      alpha_pattern: Object.fromEntries([...ranks].filter(([, x]) => x.alpha !== usual.alpha).map(([m, x]) => [patternKey(m), x.alpha])),
    },
    tensors,
  };
};

/**
 * Several low-rank pieces on row ranges of one module as one LoRA of the summed rank R: A stacks
 * the pieces' A; piece k's B sits in its rows and its R-columns, zero elsewhere, so
 * B A = Σ_k (B_k A_k on its rows). One common scale s gives lora_alpha = s·R (HF's α/r = s); mixed
 * scales are folded into B with lora_alpha = R. The patch embedding's LoRA is a Conv2d LoRA:
 * A [R, C, P, P], B [out, R, 1, 1].
 */
const fusedLora = (module: string, pieces: readonly LoraPiece[], base: Backbone) => {
  const weight = base.weights.get(`${module}.weight`)!;
  const out = weight.shape[0]!;
  const din = weight.data.length / out;
  const total = pieces.reduce((n, p) => n + p.rank, 0);
  const common = pieces.every((p) => p.scale === pieces[0]!.scale) ? pieces[0]!.scale : null;
  const a = new Float32Array(total * din);
  const b = new Float32Array(out * total);
  let col = 0;
  for (const p of pieces) {
    a.set(p.a, col * din);
    const [r0, r1] = p.rows ?? [0, out];
    const fold = common === null ? p.scale : 1;
    for (let i = r0; i < r1; i++) for (let k = 0; k < p.rank; k++) b[i * total + col + k] = fold * p.b[(i - r0) * p.rank + k]!;
    col += p.rank;
  }
  const conv = weight.shape.length === 4;
  return {
    a: { shape: conv ? [total, ...weight.shape.slice(1)] : [total, din], data: a },
    b: { shape: conv ? [out, total, 1, 1] : [out, total], data: b },
    r: total,
    alpha: (common ?? 1) * total,
  };
};
