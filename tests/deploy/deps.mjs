// The npm packages the test uses, loaded from where scripts/setup.sh put
// them (third_party/deploy-validators): ES modules resolve bare names only
// beside the importing file, so they are required from that directory.
// useModules() runs first; the bindings below are live.
import { createRequire } from "node:module";
import { resolve } from "node:path";

export let yaml;
export let Ajv;

export function useModules(nodeModules) {
  const require = createRequire(resolve(nodeModules, "index.js"));
  yaml = require("yaml");
  Ajv = require("ajv").default;
}
