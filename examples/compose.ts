/*
 * A method written as a combinator expression, counted, described and checked against the
 * laws — no training needed. Run: `npm run build && node dist/examples/compose.js`.
 */
import { checkLaws } from "../laws/index.js";
import { and, blocks, combine, countMethod, describeMethod, linearProbe, lowRank, method, role, sum, target, full, vitB16, loadBackend } from "../src/index.js";

// LoRA r8 on q and v; on the MLP of the last four blocks, a sum of two low-rank updates
// (ranks 2 and 4); trainable LayerNorms; a new head.
const variant = combine(
  method({ targets: [target(role("q", "v"), lowRank({ rank: 8, alpha: 16 }))] }),
  method({ targets: [target(and(blocks(-4), role("fc1", "fc2")), sum(lowRank({ rank: 2, alpha: 2 }), lowRank({ rank: 4, alpha: 4 })))] }),
  method({ targets: [target(role("norm"), full)] }),
  linearProbe(),
);

const report = countMethod(variant, { ...vitB16, classes: 100 });
console.log(describeMethod(variant, { ...vitB16, classes: 100 }));
console.log(`\non ViT-B/16 with a 100-class head: ${report.trainable.toLocaleString("en-US")} trainable (${report.percent.toFixed(3)}%)\n`);

await loadBackend("wasm");
for (const r of await checkLaws(variant, { runs: 5 })) console.log(`${r.ok ? "✓" : "✗"} ${r.law}${r.failure ? `: ${r.failure}` : ""}`);
