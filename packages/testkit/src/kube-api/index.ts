// The test Kubernetes API server (see server.ts) and the chart it takes its truth from.
export {
  CHART_DIR,
  type ChartValues,
  chartCrds,
  containerEnv,
  type RenderedChart,
  renderChart,
} from "./chart.js";
export type { PolicyRule, Subject } from "./rbac.js";
export {
  API_AUDIENCE,
  FakeKubeApi,
  type FakeKubeApiOptions,
  type FakeUser,
  type RequestRecord,
} from "./server.js";
export { MAX_ANNOTATION_BYTES, MAX_CONFIGMAP_BYTES } from "./validation.js";
