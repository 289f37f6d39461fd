// Checks across objects that no schema can make: selectors that select,
// ports that exist, the shutdown arithmetic, metric names serval exports,
// flags serval has. Each returns problems as {where, message}.
import { yaml } from "./deps.mjs";

const byKind = (docs, kind) => docs.filter((d) => d.object.kind === kind);
const nameOf = (d) => `${d.object.kind}/${d.object.metadata?.name}`;
const selects = (selector, labels) =>
  Object.entries(selector || {}).every(([k, v]) => labels?.[k] === v);

// The value of `--flag=value` (or `--flag value`) in a container's args.
export function flagValue(args, flag) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i].startsWith(`${flag}=`)) return args[i].slice(flag.length + 1);
  }
  return undefined;
}

function servalContainers(doc) {
  const o = doc.object;
  const containers = o.kind === "Deployment" ? o.spec?.template?.spec?.containers
    : o.kind === "ClusterServingRuntime" ? o.spec?.containers : [];
  return (containers || []).filter((c) => (c.args || [])[0] === "serve");
}

function checkArgs(docs, facts, problems) {
  for (const doc of docs) {
    for (const c of servalContainers(doc)) {
      for (const arg of c.args.slice(1)) {
        const flag = arg.startsWith("--") ? arg.split("=")[0] : null;
        if (flag && !facts.flags.has(flag)) {
          problems.push({ where: `${nameOf(doc)} ${c.name}`, message: `${flag} is not a serval serve flag` });
        }
      }
    }
  }
}

function checkDeployment(doc, facts, problems) {
  const where = nameOf(doc);
  const spec = doc.object.spec;
  const pod = spec.template.spec;
  if (!selects(spec.selector.matchLabels, spec.template.metadata?.labels)) {
    problems.push({ where, message: "selector does not select the pod template's labels" });
  }
  const volumes = new Set((pod.volumes || []).map((v) => v.name));
  for (const c of pod.containers) {
    const ports = new Set((c.ports || []).map((p) => p.name));
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
      const port = c[probe]?.httpGet?.port;
      if (typeof port === "string" && !ports.has(port)) {
        problems.push({ where, message: `${probe} uses port '${port}', which ${c.name} does not name` });
      }
    }
    for (const m of c.volumeMounts || []) {
      if (!volumes.has(m.name)) problems.push({ where, message: `volumeMount '${m.name}' has no volume` });
    }
    if ((c.args || [])[0] !== "serve") continue;
    // serval writes its S3 cache: with a read-only root it must be a mount.
    const cache = flagValue(c.args, "--model-cache-directory");
    const mounted = (c.volumeMounts || []).some((m) => cache?.startsWith(m.mountPath));
    if (c.securityContext?.readOnlyRootFilesystem && !mounted) {
      problems.push({ where, message: "--model-cache-directory must be on a mounted volume (read-only root filesystem)" });
    }
    // SIGKILL must not come before the preStop delay plus the drain.
    const exitTimeout = Number(flagValue(c.args, "--exit-timeout-secs") ?? 30);
    const sleep = Number((c.lifecycle?.preStop?.exec?.command || []).find((a) => /^\d+$/.test(a)) ??
      c.lifecycle?.preStop?.sleep?.seconds ?? 0);
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    if (grace < sleep + exitTimeout + 5) {
      problems.push({
        where,
        message: `terminationGracePeriodSeconds ${grace} < preStop ${sleep} s + --exit-timeout-secs ${exitTimeout} + 5 s to close`,
      });
    }
  }
}

// Services select a Deployment's pods and target ports its container names.
function checkServices(docs, problems) {
  const deployments = byKind(docs, "Deployment");
  for (const svc of byKind(docs, "Service")) {
    const target = deployments.find((d) =>
      selects(svc.object.spec.selector, d.object.spec.template.metadata?.labels));
    if (!target) {
      problems.push({ where: nameOf(svc), message: "selector matches no Deployment's pods" });
      continue;
    }
    const names = new Set(target.object.spec.template.spec.containers
      .flatMap((c) => (c.ports || []).map((p) => p.name)));
    for (const p of svc.object.spec.ports) {
      if (typeof p.targetPort === "string" && !names.has(p.targetPort)) {
        problems.push({ where: nameOf(svc), message: `targetPort '${p.targetPort}' is no container port` });
      }
    }
  }
}

function checkSelectors(docs, problems) {
  const podLabels = byKind(docs, "Deployment").map((d) => d.object.spec.template.metadata?.labels);
  for (const pdb of byKind(docs, "PodDisruptionBudget")) {
    if (!podLabels.some((l) => selects(pdb.object.spec.selector.matchLabels, l))) {
      problems.push({ where: nameOf(pdb), message: "selector matches no Deployment's pods" });
    }
  }
  for (const sm of byKind(docs, "ServiceMonitor")) {
    for (const ep of sm.object.spec.endpoints || []) {
      const ok = byKind(docs, "Service").some((s) =>
        selects(sm.object.spec.selector.matchLabels, s.object.metadata.labels) &&
        s.object.spec.ports.some((p) => p.name === ep.port));
      if (!ok) problems.push({ where: nameOf(sm), message: `no selected Service has a port named '${ep.port}'` });
    }
  }
}

// The adapter's rules name metrics serval exports; the HPA asks only for
// metrics the rules publish.
export function adapterRules(docs) {
  return byKind(docs, "ConfigMap")
    .filter((d) => d.object.metadata.labels?.["app.kubernetes.io/name"] === "prometheus-adapter")
    .map((d) => ({ doc: d, config: yaml.parse(d.object.data?.["config.yaml"] || "{}") }));
}

function checkAutoscaling(docs, facts, problems) {
  const published = new Set();
  for (const { doc, config } of adapterRules(docs)) {
    for (const rule of config?.rules || []) {
      for (const query of [rule.seriesQuery, rule.metricsQuery, rule.name?.matches]) {
        for (const [name] of String(query || "").matchAll(/serval_[a-z0-9_]+/g)) {
          if (!facts.metrics.has(name)) {
            problems.push({ where: nameOf(doc), message: `metric ${name} is not exported by serval (src/metrics)` });
          }
        }
      }
      published.add(rule.name?.as || String(rule.seriesQuery).match(/^[a-zA-Z_:][a-zA-Z0-9_:]*/)?.[0]);
    }
  }
  const deployments = new Set(byKind(docs, "Deployment").map((d) => d.object.metadata.name));
  for (const hpa of byKind(docs, "HorizontalPodAutoscaler")) {
    const ref = hpa.object.spec.scaleTargetRef;
    if (ref.kind !== "Deployment" || !deployments.has(ref.name)) {
      problems.push({ where: nameOf(hpa), message: `scaleTargetRef ${ref.kind}/${ref.name} is not in the manifests` });
    }
    for (const m of hpa.object.spec.metrics || []) {
      const name = m.pods?.metric?.name ?? m.object?.metric?.name;
      if (name && !published.has(name)) {
        problems.push({ where: nameOf(hpa), message: `metric ${name} is published by no prometheus-adapter rule` });
      }
    }
  }
}

function checkKServe(docs, problems) {
  const runtimes = new Map(byKind(docs, "ClusterServingRuntime").map((d) => [d.object.metadata.name, d.object]));
  for (const rt of runtimes.values()) {
    if (!rt.spec.containers.some((c) => c.name === "kserve-container")) {
      problems.push({ where: `ClusterServingRuntime/${rt.metadata.name}`, message: "no container named kserve-container" });
    }
  }
  for (const isvc of byKind(docs, "InferenceService")) {
    const model = isvc.object.spec.predictor.model;
    if (!model?.runtime) continue;
    const rt = runtimes.get(model.runtime);
    if (!rt) {
      problems.push({ where: nameOf(isvc), message: `no ClusterServingRuntime named '${model.runtime}'` });
      continue;
    }
    const formats = rt.spec.supportedModelFormats || [];
    if (!formats.some((f) => f.name === model.modelFormat.name &&
        (!model.modelFormat.version || f.version === model.modelFormat.version))) {
      problems.push({ where: nameOf(isvc), message: `runtime '${model.runtime}' does not support format ${model.modelFormat.name}` });
    }
    if (model.protocolVersion && !(rt.spec.protocolVersions || []).includes(model.protocolVersion)) {
      problems.push({ where: nameOf(isvc), message: `runtime '${model.runtime}' does not speak protocol ${model.protocolVersion}` });
    }
  }
}

export function checkConsistency(docs, facts) {
  const problems = [];
  checkArgs(docs, facts, problems);
  for (const d of byKind(docs, "Deployment")) checkDeployment(d, facts, problems);
  checkServices(docs, problems);
  checkSelectors(docs, problems);
  checkAutoscaling(docs, facts, problems);
  checkKServe(docs, problems);
  return problems;
}
