// The papers' qualitative claims, checked on a sweep's results.jsonl: for each claim, method A
// against method B over every (task, seed) both finished — the mean difference in test accuracy
// (points), how many pairs A won, lost or tied, and the same per VTAB group. RIFT's claim is
// about the representation kept (Sim), so it compares Sim too; S²FT's claim about its permutation
// is read from each run's pre-estimate record (result.json).
//
//   node examples/mini-vtab-claims.mjs scratch/mini-vtab/results.jsonl > docs/results/mini-vtab/claims.md
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const file = process.argv[2];
if (!file) {
  console.error("usage: node examples/mini-vtab-claims.mjs RESULTS.jsonl");
  process.exit(2);
}
const rows = readFileSync(file, "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l))
  .filter((r) => r.status === "ok");
const variant = (r) =>
  `${r.method}${Object.values(r.params)
    .map((v) => `@${v}`)
    .join("")}`;
const byKey = new Map(rows.map((r) => [`${variant(r)}|${r.task}|${r.seed}`, r]));

const claims = [
  ["BAFT: behaviour alignment improves its base method (LoRA)", "lora-baft@0.001", "lora", "testAccuracy"],
  ["BAFT at the larger grid point λ = 0.01", "lora-baft@0.01", "lora", "testAccuracy"],
  ["DAF: dynamic reconfiguration beats a static PEFT baseline (LoRA) with fewer parameters", "daf", "lora", "testAccuracy"],
  ["RIFT: accuracy maintained or improved over its base (LoRA)", "lora-rift", "lora", "testAccuracy"],
  ["RIFT: representation kept (Sim, linear CKA to pretrained) above its base", "lora-rift", "lora", "sim"],
  ["RIFT: representation kept above full fine-tuning", "lora-rift", "full", "sim"],
  ["RLRR: beats LoRA at a comparable parameter count", "rlrr", "lora", "testAccuracy"],
  ["S²FT: beats FourierFT at the same parameter count", "s2ft", "fourierft", "testAccuracy"],
  ["PEFT (LoRA) matches or beats full fine-tuning on 800-example tasks", "lora", "full", "testAccuracy"],
  ["LoRA beats the linear probe", "lora", "linear", "testAccuracy"],
];

const pairs = (a, b, field) =>
  rows
    .filter((r) => variant(r) === a)
    .flatMap((ra) => {
      const rb = byKey.get(`${b}|${ra.task}|${ra.seed}`);
      return rb && Number.isFinite(ra[field]) && Number.isFinite(rb[field]) ? [{ group: ra.group, task: ra.task, d: ra[field] - rb[field] }] : [];
    });
const scale = (field) => (field === "sim" ? 1 : 100);
const summary = (ps, field) => {
  const mean = ps.reduce((s, p) => s + p.d, 0) / ps.length;
  const won = ps.filter((p) => p.d > 0).length;
  const lost = ps.filter((p) => p.d < 0).length;
  return `${(mean * scale(field)).toFixed(field === "sim" ? 3 : 1)} (${won}/${lost}/${ps.length - won - lost})`;
};

const groups = [...new Set(rows.map((r) => r.group))];
console.log(`# Claims on ${rows.length} finished jobs of ${file}\n`);
console.log("Each cell: mean of A − B over the (task, seed) pairs both finished — accuracy in points, Sim in CKA units — then (A won / A lost / tied).\n");
console.log(`| claim | A | B | measure | pairs | all | ${groups.join(" | ")} |`);
console.log(`| --- | --- | --- | --- | --- | --- | ${groups.map(() => "---").join(" | ")} |`);
for (const [claim, a, b, field] of claims) {
  const ps = pairs(a, b, field);
  if (ps.length === 0) continue;
  const perGroup = groups.map((g) => {
    const gs = ps.filter((p) => p.group === g);
    return gs.length === 0 ? "–" : summary(gs, field);
  });
  console.log(`| ${claim} | ${a} | ${b} | ${field === "sim" ? "Sim" : "test acc."} | ${ps.length} | ${summary(ps, field)} | ${perGroup.join(" | ")} |`);
}

// S²FT: the tour permutation moves ΔŴ's spectral energy to low frequencies (the lowest quarter of the radial bands).
const spectra = rows
  .filter((r) => r.method === "s2ft")
  .flatMap((r) => {
    const path = join(dirname(file), r.runDir, "result.json");
    if (!existsSync(path)) return [];
    return JSON.parse(readFileSync(path, "utf8"))
      .preludes.flatMap((p) => p.sites ?? [])
      .flatMap((s) => (s.spectrum ? [s.spectrum] : []));
  });
if (spectra.length > 0) {
  const low = (bands) => bands.slice(0, Math.ceil(bands.length / 4)).reduce((a, b) => a + b, 0) / bands.reduce((a, b) => a + b, 0);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const before = spectra.map((s) => low(s.identity));
  const after = spectra.map((s) => low(s.permuted));
  console.log(
    `\nS²FT, ${spectra.length} site pre-estimates: share of ΔŴ's spectral energy in the lowest quarter of the radial bands, ${(100 * mean(before)).toFixed(1)}% in the stored order, ${(100 * mean(after)).toFixed(1)}% after the tour permutation (higher after in ${after.filter((a, i) => a > before[i]).length} of ${spectra.length}).`,
  );
}
