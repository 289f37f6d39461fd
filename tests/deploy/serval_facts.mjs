// What the manifests may refer to, read from serval's sources rather than
// restated here: a metric or flag renamed in the code then fails the test
// instead of silently breaking the autoscaler or the pod's start.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

function sources(dir, skipDirs = []) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skipDirs.includes(entry.name)) out.push(...sources(path, skipDirs));
    }
    else if (entry.name.endsWith(".cc") && !entry.name.endsWith("_test.cc")) out.push(path);
  }
  return out;
}

// Metric family names the /metrics exporter writes (src/metrics).
export function exportedMetrics(sourceRoot) {
  const names = new Set();
  for (const file of sources(join(sourceRoot, "src", "metrics"))) {
    for (const m of readFileSync(file, "utf8").matchAll(/"(serval_[a-z0-9_]+)"/g)) {
      names.add(m[1]);
    }
  }
  return names;
}

// Every --flag of `serval serve` (CLI11's add_option / add_flag); the
// tools' commands (src/tools: perf, tune) are not what a pod runs.
export function serveFlags(sourceRoot) {
  const flags = new Set();
  for (const file of sources(join(sourceRoot, "src"), ["tools"])) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/add_(?:option|flag)\(\s*"(--[a-z0-9-]+)/g)) {
      flags.add(m[1]);
    }
  }
  return flags;
}
