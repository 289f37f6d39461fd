// The test's own schemas for the objects no schema package covers: KServe's
// ClusterServingRuntime (serving.kserve.io/v1alpha1) and InferenceService
// (serving.kserve.io/v1beta1), kustomize's Kustomization, and
// prometheus-adapter's rules. Field names and types follow the upstream Go
// types (KServe: pkg/apis/serving/v1alpha1/servingruntime_types.go,
// v1beta1/predictor.go, predictor_model.go, component.go; prometheus-adapter:
// docs/config.md). They list the fields those types have, so an unknown one
// fails; the Kubernetes types embedded in them (Container, Volume, PodSpec)
// are checked by kubernetes-models' schemas through k8s_schema.mjs:
//   k8sType: "<type>"      the value is that Kubernetes type
//   k8sInline: {type, ignoreRequired}
//                          the object's fields not in `properties` are that
//                          type's (Go's `json:",inline"` embedding)
import { Ajv } from "./deps.mjs";

const str = { type: "string" };
const bool = { type: "boolean" };
const int = { type: "integer" };
const stringMap = { type: "object", additionalProperties: str };
const k8s = (type) => ({ k8sType: type });
const arrayOf = (items) => ({ type: "array", items });
const object = (properties, required = []) =>
  ({ type: "object", properties, required, additionalProperties: false });

const metadata = {
  type: "object",
  k8sType: "meta:IoK8sApimachineryPkgApisMetaV1ObjectMeta",
  required: ["name"],
};
const protocol = { enum: ["v1", "v2", "grpc-v1", "grpc-v2"] };

const servingRuntimeSpec = object({
  supportedModelFormats: arrayOf(object({
    name: str, version: str, autoSelect: bool, priority: { type: "integer", minimum: 1 },
  }, ["name"])),
  multiModel: bool,
  disabled: bool,
  protocolVersions: arrayOf(protocol),
  workerSpec: { type: "object" },
  // ServingRuntimePodSpec, inlined.
  containers: { ...arrayOf(k8s("IoK8sApiCoreV1Container")), minItems: 1 },
  volumes: arrayOf(k8s("IoK8sApiCoreV1Volume")),
  nodeSelector: stringMap,
  affinity: k8s("IoK8sApiCoreV1Affinity"),
  tolerations: arrayOf(k8s("IoK8sApiCoreV1Toleration")),
  labels: stringMap,
  annotations: stringMap,
  imagePullSecrets: arrayOf(k8s("IoK8sApiCoreV1LocalObjectReference")),
  hostIPC: bool,
  grpcEndpoint: str,
  grpcDataEndpoint: str,
  httpDataEndpoint: str,
  replicas: { type: "integer", minimum: 0 },
  storageHelper: object({ disabled: bool }),
  builtInAdapter: object({
    serverType: str, runtimeManagementPort: int, memBufferBytes: int,
    modelLoadingTimeoutMillis: int, env: arrayOf(k8s("IoK8sApiCoreV1EnvVar")),
  }),
}, ["containers"]);

// ModelSpec: its own fields, PredictorExtensionSpec's, and a Container inline.
const modelSpec = {
  type: "object",
  properties: {
    modelFormat: object({ name: str, version: str }, ["name"]),
    runtime: str,
    storageUri: str,
    runtimeVersion: str,
    protocolVersion: protocol,
    storage: { type: "object" },
  },
  required: ["modelFormat"],
  k8sInline: { type: "IoK8sApiCoreV1Container", ignoreRequired: ["name"] },
};

// PredictorSpec: framework specs, model, ComponentExtensionSpec and a PodSpec
// inline.
const framework = { type: "object" };
const predictorSpec = {
  type: "object",
  properties: {
    sklearn: framework, xgboost: framework, tensorflow: framework,
    pytorch: framework, triton: framework, onnx: framework,
    huggingface: framework, pmml: framework, lightgbm: framework, paddle: framework,
    model: modelSpec,
    storageUris: arrayOf(object({ uri: str, mountPath: str }, ["uri"])),
    workerSpec: { type: "object" },
    minReplicas: { type: "integer", minimum: 0 },
    maxReplicas: { type: "integer", minimum: 0 },
    scaleTarget: int,
    scaleMetric: { enum: ["cpu", "memory", "concurrency", "rps"] },
    containerConcurrency: { type: "integer", minimum: 0 },
    timeout: int,
    canaryTrafficPercent: { type: "integer", minimum: 0, maximum: 100 },
    logger: { type: "object" },
    batcher: { type: "object" },
    labels: stringMap,
    annotations: stringMap,
    deploymentStrategy: k8s("IoK8sApiAppsV1DeploymentStrategy"),
  },
  k8sInline: { type: "IoK8sApiCoreV1PodSpec", ignoreRequired: ["containers"] },
};

const topLevel = (apiVersion, kind, spec) => object({
  apiVersion: { const: apiVersion },
  kind: { const: kind },
  metadata,
  spec,
}, ["apiVersion", "kind", "metadata", "spec"]);

const kustomization = object({
  apiVersion: { const: "kustomize.config.k8s.io/v1beta1" },
  kind: { const: "Kustomization" },
  namespace: str,
  namePrefix: str,
  nameSuffix: str,
  resources: { ...arrayOf(str), minItems: 1 },
  labels: arrayOf({ type: "object" }),
  commonLabels: stringMap,
  commonAnnotations: stringMap,
  images: arrayOf(object({ name: str, newName: str, newTag: str, digest: str }, ["name"])),
  patches: arrayOf({ type: "object" }),
  configMapGenerator: arrayOf({ type: "object" }),
  secretGenerator: arrayOf({ type: "object" }),
}, ["apiVersion", "kind", "resources"]);

const adapterRule = object({
  seriesQuery: str,
  seriesFilters: arrayOf(object({ is: str, isNot: str })),
  resources: object({
    overrides: { type: "object", additionalProperties: object({ group: str, resource: str }, ["resource"]) },
    template: str,
  }),
  name: object({ matches: str, as: str }),
  metricsQuery: str,
}, ["seriesQuery", "metricsQuery"]);
export const adapterConfig = object({
  rules: arrayOf(adapterRule),
  externalRules: arrayOf(adapterRule),
  resourceRules: { type: "object" },
});

export const SCHEMAS = {
  "serving.kserve.io/v1alpha1/ClusterServingRuntime":
    topLevel("serving.kserve.io/v1alpha1", "ClusterServingRuntime", servingRuntimeSpec),
  "serving.kserve.io/v1beta1/InferenceService":
    topLevel("serving.kserve.io/v1beta1", "InferenceService", object({
      predictor: predictorSpec, explainer: framework, transformer: framework,
    }, ["predictor"])),
  "kustomize.config.k8s.io/v1beta1/Kustomization": kustomization,
};

// Every Kubernetes type the schemas above refer to, so they can be loaded
// before ajv (whose keywords are synchronous) runs.
export function referencedK8sTypes() {
  const found = new Set();
  const walk = (s) => {
    if (!s || typeof s !== "object") return;
    if (typeof s.k8sType === "string") found.add(s.k8sType);
    if (s.k8sInline) found.add(s.k8sInline.type);
    Object.values(s).forEach(walk);
  };
  walk(SCHEMAS);
  walk(adapterConfig);
  return [...found];
}

// An ajv instance with the two keywords wired to `schemas` (K8sSchemas).
export function makeAjv(schemas) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const instancePath = (cxt) => (cxt && cxt.instancePath) || "";
  ajv.addKeyword({
    keyword: "k8sType",
    errors: true,
    validate: function k8sType(type, data, _schema, cxt) {
      if (data === null || typeof data !== "object") return true;
      return report(k8sType, schemas.checkLoaded(type, data, instancePath(cxt)));
    },
  });
  ajv.addKeyword({
    keyword: "k8sInline",
    errors: true,
    validate: function k8sInline(inline, data, schema, cxt) {
      if (data === null || typeof data !== "object") return true;
      return report(k8sInline, schemas.checkLoaded(inline.type, data, instancePath(cxt), {
        skip: Object.keys(schema.properties || {}),
        ignoreRequired: inline.ignoreRequired || [],
      }));
    },
  });
  return ajv;
}

function report(fn, problems) {
  fn.errors = problems.map((p) => ({
    instancePath: p.path, keyword: "k8s", message: p.message, params: {},
  }));
  return problems.length === 0;
}
