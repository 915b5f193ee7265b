import { describe, expect, it } from "vitest";
import { resolveMethod, resolveSelector } from "../../src/interpreters/resolve.js";
import { and, blocks, expectCount, glob, not, role } from "../../src/dsl/selector.js";
import { combine, method, target, type Method } from "../../src/dsl/method.js";
import { full, lowRank, parallelAdapter, permuted, quantized, rescale, scaleShift, sum } from "../../src/dsl/transform.js";
import { bitFit, daf, linearProbe, s2ft } from "../../src/methods/index.js";
import { dafCandidates, every, featureStatistics, gradientEstimate, once, reconfigure } from "../../src/dsl/rule.js";
import { riftTerm } from "../../src/dsl/loss.js";
import { countMethod } from "../../src/interpreters/count.js";
import { vitB16 } from "../../src/models/vitConfig.js";

const names = (sites: readonly { name: string }[]) => sites.map((s) => s.name);

describe("selectors and placement on ViT-B/16", () => {
  it("pick the q and v thirds of the fused qkv weight, and block ranges Python-style", () => {
    expect(names(resolveSelector(and(role("q", "v"), blocks(-1)), vitB16))).toEqual(["blocks.11.attn.qkv.weight[q]", "blocks.11.attn.qkv.weight[v]"]);
    expect(resolveSelector(and(role("fc1"), blocks(2, 5)), vitB16)).toHaveLength(6);
    expect(names(resolveSelector(and(glob("blocks.0.*"), role("bias"), not(role("norm"))), vitB16))).toEqual([
      "blocks.0.attn.qkv.bias",
      "blocks.0.attn.proj.bias",
      "blocks.0.mlp.fc1.bias",
      "blocks.0.mlp.fc2.bias",
    ]);
  });

  it("keep one site per region: the whole qkv weight absorbs its q/k/v thirds", () => {
    expect(names(resolveSelector(and(blocks(0, 1), role("qkv", "q")), vitB16))).toEqual(["blocks.0.attn.qkv.weight", "blocks.0.attn.qkv.bias"]);
  });

  it("fail a count assertion with the sites it found", () => {
    expect(() => resolveSelector(expectCount(3, role("head")), vitB16)).toThrowError(/expected to match 3 sites but matched 2 \(head.weight, head.bias\)/);
  });

  it("place an identical `full` once (BitFit + linear probe share head.bias) but refuse other double training", () => {
    const placed = resolveMethod(combine(bitFit(), linearProbe()), vitB16);
    expect(placed.filter((p) => p.site.name === "head.bias").map((p) => p.target)).toEqual([0]);
    expect(() => resolveMethod(method({ targets: [target(role("qkv"), full), target(role("q"), full)] }), vitB16)).toThrowError(
      /made trainable \(full\) again/,
    );
    expect(() => resolveMethod(method({ targets: [target(role("head"), full), target(role("head"), sum(full, lowRank({ rank: 1 })))] }), vitB16)).toThrowError(
      /made trainable \(full\) again/,
    );
  });

  it("skip sites a transform does not apply to, and refuse a target that applies to none", () => {
    expect(resolveMethod(method({ targets: [target(role("qkv"), lowRank({ rank: 2 }))] }), vitB16).map((p) => p.site.name)).not.toContain(
      "blocks.0.attn.qkv.bias",
    );
    expect(() => resolveMethod(method({ targets: [target(role("bias"), lowRank({ rank: 2 }))] }), vitB16)).toThrowError(
      /targets\[0\]: lowRank\(r=2, s=2\/2\) on bias applies to no site/,
    );
  });

  it("place AdaptFormer's module once per MLP, and refuse module transforms where a ΔW is expected", () => {
    expect(resolveMethod(method({ targets: [target(role("mlp"), parallelAdapter({ bottleneck: 8 }))] }), vitB16).map((p) => p.site.name)).toEqual(
      Array.from({ length: 12 }, (_, i) => `blocks.${i}.mlp.fc1.weight`),
    );
    expect(resolveMethod(method({ targets: [target(role("mlp"), quantized({ bits: 1 }, parallelAdapter({ bottleneck: 8 })))] }), vitB16)).toHaveLength(12);
    const id = { _tag: "Identity" } as const;
    expect(() => resolveMethod(method({ targets: [target(role("mlp"), sum(lowRank({ rank: 1 }), parallelAdapter({ bottleneck: 8 })))] }), vitB16)).toThrowError(
      /targets\[0\]\.transform: `parallelAdapter` adds a module, not a ΔW/,
    );
    expect(() =>
      resolveMethod(method({ targets: [target(role("mlp"), permuted({ rows: id, cols: id }, parallelAdapter({ bottleneck: 8 })))] }), vitB16),
    ).toThrowError(/not inside sum\/permuted/);
    expect(() => resolveMethod(method({ targets: [target(role("fc1"), quantized({ bits: 1 }, scaleShift()))] }), vitB16)).toThrowError(
      /`scaleShift` acts on a module's output/,
    );
    expect(() => resolveMethod(method({ targets: [target(role("qkv"), parallelAdapter({ bottleneck: 8 }))] }), vitB16)).toThrowError(/applies to no site/);
  });

  it("refuse estimated state without the rule that sets it, and the rule with nothing to set", () => {
    const tour = { _tag: "Tour", seed: 0 } as const;
    expect(() => resolveMethod(method({ targets: [target(role("q"), permuted({ rows: tour, cols: tour }, lowRank({ rank: 2 })))] }), vitB16)).toThrowError(
      /targets\[0\]\.transform: tours and weighted spectral positions are set from a gradient pre-estimate: add the rule once\(gradientEstimate\(\)\)/,
    );
    expect(() => resolveMethod(method({ targets: [target(role("q"), lowRank({ rank: 2 }))], rules: [once(gradientEstimate())] }), vitB16)).toThrowError(
      /rules\[0\]: gradientEstimate has nothing to set/,
    );
    expect(resolveMethod(s2ft(), vitB16)).toHaveLength(24);
  });

  it("check a reconfigure rule before anything runs: the module, the ratios, the candidates, `every` only for it", () => {
    const head = target(role("head"), full);
    const bad: Array<[Method, RegExp]> = [
      [
        method({ targets: [head], rules: [every(2, "epochs", reconfigure({ module: rescale() }))] }),
        /rules\[0\]\.action\.module: rescale\(kaiming init\) does not start at the identity/,
      ],
      [method({ targets: [head], rules: [once(reconfigure({ module: full }))] }), /rules\[0\]\.action\.module: `full` has no ΔW/],
      [
        method({ targets: [head], rules: [once(reconfigure({ ratios: { matrices: 0.5, vectors: 0.5, special: 0.3 } }))] }),
        /rules\[0\]\.action\.ratios: the ratios sum to 1\.3/,
      ],
      [
        method({ targets: [head, target(role("v"), lowRank({ rank: 2 }))], rules: [once(reconfigure())] }),
        /rules\[0\]\.action\.candidates: blocks\.0\.attn\.qkv\.weight\[v\] is already adapted by targets\[1\]/,
      ],
      [
        method({ targets: [head], rules: [once(reconfigure({ candidates: { ...dafCandidates, special: role("cls", "norm") } }))] }),
        /rules\[0\]\.action\.candidates\.special: blocks\.0\.norm1\.weight is already a vectors candidate/,
      ],
      [method({ targets: [head], rules: [once(reconfigure()), every(3, "epochs", reconfigure())] }), /rules\[0\]: a method has at most one reconfigure rule/],
      [
        method({ targets: [head], losses: [riftTerm()], rules: [every(3, "epochs", featureStatistics())] }),
        /rules\[0\]\.when: every 3 epochs is only for reconfigure/,
      ],
    ];
    for (const [m, message] of bad) expect(() => countMethod(m, vitB16)).toThrowError(message);
    const ok = countMethod(combine(method({ targets: [head] }), daf()), vitB16);
    // ViT-B/16: 72 LoRA-8 modules, 12·(4·768 + 2304 + 768 + 3072 + 768) + 768 + 768 + 768 vector entries, cls + pos.
    const lora = 12 * (4 * 8 * 1536 + 2 * 8 * (768 + 3072));
    const vectors = 12 * (4 * 768 + 2304 + 768 + 3072 + 768) + 3 * 768;
    const special = 768 + 197 * 768;
    expect(ok.reconfigured!.total).toBe(lora + vectors + special);
    expect(ok.reconfigured!.budget.matrices).toBe(Math.floor(0.3 * 0.2 * (lora + vectors + special)));
  });
});
