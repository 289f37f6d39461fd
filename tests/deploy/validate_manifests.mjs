// Validates every YAML manifest under a directory: each object against its
// type's schema (k8s_schema.mjs for Kubernetes' and the Prometheus
// Operator's types, crd_schemas.mjs for KServe, kustomize and
// prometheus-adapter), then the objects against each other and against
// serval's sources (consistency.mjs).
//   node validate_manifests.mjs <node_modules> <manifest dir> <source root>
// Exits 1, listing every problem, when anything is wrong.
import { readdirSync, readFileSync, existsSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, relative, dirname, resolve } from "node:path";
import { yaml, useModules } from "./deps.mjs";
import { K8sSchemas, describe } from "./k8s_schema.mjs";
import { SCHEMAS, adapterConfig, makeAjv, referencedK8sTypes } from "./crd_schemas.mjs";
import { adapterRules, checkConsistency } from "./consistency.mjs";
import { exportedMetrics, serveFlags } from "./serval_facts.mjs";

function yamlFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFiles(path));
    else if (/\.ya?ml$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

// Every object of every file, as {file, object}; YAML 1.1 as Kubernetes
// reads it (`on` is a boolean there), duplicate keys refused.
function load(dir, problems) {
  const docs = [];
  for (const path of yamlFiles(dir)) {
    const file = relative(dir, path);
    for (const doc of yaml.parseAllDocuments(readFileSync(path, "utf8"), { version: "1.1", uniqueKeys: true })) {
      for (const e of doc.errors) problems.push({ where: file, message: e.message });
      const object = doc.toJS();
      if (object !== null && object !== undefined) docs.push({ file, object });
    }
  }
  return docs;
}

// The schemas, loaded and compiled once per process (negative_check.mjs
// validates many copies).
let loaded = null;
async function schemasFrom(nodeModules) {
  if (loaded) return loaded;
  useModules(nodeModules);
  const k8s = new K8sSchemas(resolve(nodeModules));
  for (const type of referencedK8sTypes()) await k8s.load(type);
  const ajv = makeAjv(k8s);
  const validators = new Map();
  const crd = (key, schema) => {
    if (!validators.has(key)) validators.set(key, ajv.compile(schema));
    return validators.get(key);
  };
  loaded = { k8s, crd };
  return loaded;
}

export async function validateTree(nodeModules, dir, sourceRoot) {
  const { k8s, crd } = await schemasFrom(nodeModules);
  const problems = [];
  const docs = load(dir, problems);
  if (docs.length === 0) problems.push({ where: dir, message: "no manifests found" });

  for (const { file, object } of docs) {
    const where = `${file} ${object.kind}/${object.metadata?.name ?? ""}`;
    const add = (list) => list.forEach((p) => problems.push({ where, message: `${p.path || "/"}: ${p.message}` }));
    const key = `${object.apiVersion}/${object.kind}`;
    if (SCHEMAS[key]) {
      const validate = crd(key, SCHEMAS[key]);
      if (!validate(object)) add(validate.errors.map((e) => ({ path: e.instancePath, message: describe(e) })));
      if (object.kind === "Kustomization") {
        for (const r of object.resources || []) {
          if (!existsSync(join(dir, dirname(file), r))) add([{ path: "/resources", message: `${r} does not exist` }]);
        }
      }
      continue;
    }
    const type = k8s.typeOf(String(object.apiVersion), String(object.kind));
    if (!type) {
      add([{ path: "", message: `no schema known for ${key}` }]);
      continue;
    }
    add(await k8s.check(type, object));
    if (!object.metadata?.name) add([{ path: "/metadata", message: "missing required field 'name'" }]);
  }
  for (const { doc, config } of adapterRules(docs)) {
    const validate = crd("adapter", adapterConfig);
    if (!validate(config)) {
      validate.errors.forEach((e) => problems.push({
        where: `${doc.file} config.yaml`, message: `${e.instancePath || "/"}: ${describe(e)}`,
      }));
    }
  }
  // The cross-checks rely on what the schemas guarantee (a Deployment has a
  // selector, a Service ports): they run once every object passed.
  if (problems.length === 0) {
    const facts = { metrics: exportedMetrics(sourceRoot), flags: serveFlags(sourceRoot) };
    for (const p of checkConsistency(docs, facts)) problems.push(p);
  }
  return { docs, problems };
}

async function main() {
  const [nodeModules, dir, sourceRoot] = process.argv.slice(2);
  const { docs, problems } = await validateTree(nodeModules, dir, sourceRoot);
  for (const p of problems) console.log(`FAIL ${p.where}: ${p.message}`);
  console.log(`${docs.length} objects in ${dir}: ${problems.length} problem(s)`);
  process.exit(problems.length === 0 ? 0 : 1);
}

// Run as a program, not when negative_check.mjs imports it.
if (fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) main();
