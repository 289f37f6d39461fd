// Proves the validation can fail: each case breaks a copy of the manifests
// in one way a person could, and validate_manifests.mjs must report it. A
// case whose text is no longer in its file fails too, so the cases follow
// the manifests when those change.
//   node negative_check.mjs <node_modules> <manifest dir> <source root>
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateTree } from "./validate_manifests.mjs";

const CASES = [
  { name: "misspelled field", file: "deployment.yaml",
    from: "readinessProbe:", to: "readinesProbe:", expect: "unknown field" },
  { name: "wrong type", file: "deployment.yaml",
    from: "containerPort: 8000", to: 'containerPort: "8000"', expect: "must be integer" },
  { name: "missing required field", file: "service.yaml",
    from: "    - name: http\n      port: 8000\n", to: "    - name: http\n", expect: "'port'" },
  { name: "metric serval does not export", file: "prometheus-adapter/adapter-config.yaml",
    from: "'serval_queue_depth{", to: "'serval_queue_length{", expect: "not exported by serval" },
  { name: "HPA metric no adapter rule publishes", file: "hpa.yaml",
    from: "name: serval_server_inflight_requests", to: "name: serval_server_requests_in_flight",
    expect: "published by no prometheus-adapter rule" },
  { name: "flag serval does not have", file: "deployment.yaml",
    from: "--model-cache-directory=", to: "--model-cache-dir=", expect: "not a serval serve flag" },
  { name: "grace period shorter than the drain", file: "deployment.yaml",
    from: "--exit-timeout-secs=30", to: "--exit-timeout-secs=60", expect: "terminationGracePeriodSeconds" },
  { name: "probe on an unnamed port", file: "deployment.yaml",
    from: "path: /v2/health/live\n              port: http", to: "path: /v2/health/live\n              port: rest",
    expect: "livenessProbe uses port 'rest'" },
  { name: "ServiceMonitor port name", file: "servicemonitor.yaml",
    from: "- port: metrics", to: "- port: metric", expect: "port named 'metric'" },
  { name: "unknown ServiceMonitor field", file: "servicemonitor.yaml",
    from: "scrapeTimeout: 10s", to: "scrapeTimeOut: 10s", expect: "unknown field" },
  { name: "unknown KServe runtime field", file: "kserve/cluster-serving-runtime.yaml",
    from: "protocolVersions:", to: "protocolVersion:", expect: "unknown field 'protocolVersion'" },
  { name: "KServe protocol value", file: "kserve/cluster-serving-runtime.yaml",
    from: "    - v2\n", to: "    - v3\n", expect: "must be one of" },
  { name: "unknown field in KServe's embedded container", file: "kserve/cluster-serving-runtime.yaml",
    from: "      livenessProbe:", to: "      livenesProbe:", expect: "unknown field" },
  { name: "InferenceService naming a missing runtime", file: "kserve/inference-service.yaml",
    from: "runtime: serval", to: "runtime: serval-cpu", expect: "no ClusterServingRuntime named" },
  { name: "unknown InferenceService model field", file: "kserve/inference-service.yaml",
    from: "storageUri:", to: "storageURI:", expect: "unknown field" },
  { name: "kustomization resource missing", file: "kustomization.yaml",
    from: "  - pdb.yaml", to: "  - pdbs.yaml", expect: "pdbs.yaml does not exist" },
  { name: "duplicate key", file: "pdb.yaml",
    from: "  maxUnavailable: 1\n", to: "  maxUnavailable: 1\n  maxUnavailable: 2\n", expect: "unique" },
];

async function main() {
  const [nodeModules, dir, sourceRoot] = process.argv.slice(2);
  let failed = 0;
  for (const c of CASES) {
    const copy = mkdtempSync(join(tmpdir(), "serval-manifests-"));
    try {
      cpSync(dir, copy, { recursive: true });
      const path = join(copy, c.file);
      const text = readFileSync(path, "utf8");
      if (!text.includes(c.from)) {
        console.log(`FAIL ${c.name}: '${c.from}' is not in ${c.file}`);
        failed++;
        continue;
      }
      writeFileSync(path, text.replace(c.from, c.to));
      const { problems } = await validateTree(nodeModules, copy, sourceRoot);
      const hit = problems.find((p) => p.message.includes(c.expect));
      if (hit) {
        console.log(`ok   ${c.name}: rejected (${hit.message.split("\n")[0]})`);
      } else {
        console.log(`FAIL ${c.name}: not rejected with '${c.expect}'; got ${JSON.stringify(problems)}`);
        failed++;
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
  console.log(`${CASES.length - failed} of ${CASES.length} broken copies rejected`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
