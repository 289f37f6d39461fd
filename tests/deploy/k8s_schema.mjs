// Validates objects of Kubernetes' own types (and the Prometheus Operator's)
// against the validators kubernetes-models compiles from the API's OpenAPI
// schemas. Those schemas say nothing about unknown fields (the API server
// rejects them, the schemas do not), yet a misspelled field is the most
// common manifest error. So each object is validated through proxies that
// record which fields the validator reads: the compiled validator reads
// every field its schema defines (and every entry of a map), so a field it
// never read is one the type does not have.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

// The packages' compiled validators, one module per type.
const PACKAGES = {
  core: "kubernetes-models/_schemas",
  meta: "@kubernetes-models/apimachinery/_schemas",
  prometheus: "@kubernetes-models/prometheus-operator/_schemas",
};

export class K8sSchemas {
  constructor(nodeModules) {
    this.nodeModules = nodeModules;
    this.cache = new Map();
  }

  // The schema type of a top-level object, or null when none is known.
  typeOf(apiVersion, kind) {
    if (apiVersion === "monitoring.coreos.com/v1") {
      return `prometheus:ComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1${kind}`;
    }
    const [group, version] = apiVersion.includes("/")
      ? apiVersion.split("/")
      : ["core", apiVersion];
    if (group.includes(".") && !group.endsWith(".k8s.io")) return null;
    const groupName = capitalize(group.split(".")[0]);
    return `core:IoK8sApi${groupName}${capitalize(version)}${kind}`;
  }

  async load(type) {
    if (this.cache.has(type)) return this.cache.get(type);
    const [pkg, name] = type.includes(":") ? type.split(":") : ["core", type];
    const file = join(this.nodeModules, PACKAGES[pkg], `${name}.js`);
    const validate = existsSync(file)
      ? (await import(pathToFileURL(file).href)).validate
      : null;
    this.cache.set(type, validate);
    return validate;
  }

  // Problems of `value` as a `type` ("IoK8sApiCoreV1Container"), as
  // {path, message}, paths prefixed with `base`. For a type a CRD embeds
  // inline: `skip` names the top-level fields that are the CRD's own, and
  // `ignoreRequired` the embedded type's required fields the CRD does not
  // require (a KServe model is a Container without a name).
  async check(type, value, base = "", options = {}) {
    await this.load(type);
    return this.checkLoaded(type, value, base, options);
  }

  // check() for a type load() has already brought in (ajv keywords are
  // synchronous).
  checkLoaded(type, value, base = "", { skip = [], ignoreRequired = [] } = {}) {
    const validate = this.cache.get(type);
    if (!validate) return [{ path: base, message: `no schema for ${type}` }];
    const own = Object.fromEntries(
      Object.entries(value).filter(([k]) => !skip.includes(k)));
    const seen = [];
    const ok = validate(traced(own, "", seen));
    const problems = [];
    for (const e of ok ? [] : validate.errors) {
      if (e.keyword === "required" && e.instancePath === "" &&
          ignoreRequired.includes(e.params.missingProperty)) continue;
      problems.push({ path: base + e.instancePath, message: describe(e) });
    }
    for (const { path, object, read } of seen) {
      // Nothing read: the object sits under an unknown field (reported
      // already), or its schema is free-form.
      if (read.size === 0) continue;
      for (const key of Object.keys(object)) {
        if (!read.has(key)) {
          problems.push({ path: `${base}${path}/${key}`, message: "unknown field" });
        }
      }
    }
    return problems;
  }
}

function capitalize(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// A copy of `value` whose objects record the keys read from them.
function traced(value, path, seen) {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    return value.map((v, i) => traced(v, `${path}/${i}`, seen));
  }
  const read = new Set();
  seen.push({ path, object: value, read });
  const copy = {};
  for (const [k, v] of Object.entries(value)) copy[k] = traced(v, `${path}/${k}`, seen);
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === "string") read.add(key);
      return Reflect.get(target, key, receiver);
    },
  });
}

// The compiled validators carry no messages; ajv's keyword and params do.
export function describe(e) {
  const p = e.params || {};
  switch (e.keyword) {
    case "type": return `must be ${p.type}`;
    case "required": return `missing required field '${p.missingProperty}'`;
    case "enum": return `must be one of ${JSON.stringify(p.allowedValues)}`;
    case "format": return `must be in format ${p.format}`;
    case "additionalProperties": return `unknown field '${p.additionalProperty}'`;
    default: return e.message || `${e.keyword} ${JSON.stringify(p)}`;
  }
}
