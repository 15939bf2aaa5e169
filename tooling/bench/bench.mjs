// `pnpm bench`: each section measures against its baselines in the same run
// and prints medians and ratios. Build first (`pnpm build`).
// MS_BENCH_RUNS sets the number of runs per case (default 30).
import { readdirSync } from "node:fs";

const out = (s) => process.stdout.write(`${s}\n`);
const only = process.argv.slice(2);
const sections = [
  "foundation",
  ...readdirSync(new URL(".", import.meta.url))
    .filter((f) => f.endsWith(".mjs") && !["bench.mjs", "lib.mjs", "foundation.mjs"].includes(f))
    .map((f) => f.slice(0, -4)),
];
for (const name of sections) {
  if (only.length && !only.includes(name)) continue;
  out(`== ${name}`);
  const { bench } = await import(`./${name}.mjs`);
  await bench(out);
  out("");
}
