// Wire types of the dashboard HTTP API (docs/api.md). Shared domain types come from
// @masq/shared; only the API's own envelopes are declared here.
import type {
  AgentFlags,
  ConfigDiff,
  DestinationImpact,
  Difference,
  FamilySnapshot,
  FleetSummary,
  Issue,
  MasqConfig,
  NodeEvent,
  NodeStatus,
  NodeSummary,
  Role,
  Rollout,
  Verdict,
} from "@masq/shared";

export { NODE_STATUSES } from "@masq/shared";
export type { ConfigDiff, FleetSummary, NodeEvent, NodeStatus, NodeSummary, Role, Rollout };
export type ImpactDestination = DestinationImpact;

export interface NodesResponse {
  nodes: NodeSummary[];
  summary: FleetSummary;
  /** More nodes match: send this back as `continue` for the next page. */
  continue?: string;
  remainingItemCount?: number;
}

export interface Me {
  role: Role;
  user: string;
}

/** GET /api/config as the UI uses it (`config` is never null here: see normalizeConfig). */
export interface ConfigResponse {
  config: MasqConfig;
  yaml: string;
  revision: string;
  generation?: number | null;
  /** The revision nodes are enforcing (differs from `revision` while the stored text is invalid). */
  desiredRevision?: string | null;
  message?: string;
  valid: boolean;
  errors: Issue[];
  warnings: Issue[];
  flags: AgentFlags;
  author: string;
  updatedAt: string;
}

export interface ValidateResponse {
  ok: boolean;
  errors: Issue[];
  warnings: Issue[];
  config?: MasqConfig;
  diff: ConfigDiff;
  impact: { nodes: number; destinations: ImpactDestination[] };
}

export interface SaveResponse {
  revision: string;
  generation: number;
  warnings: Issue[];
}

export interface ConflictCurrent {
  revision: string;
  yaml: string;
  /** null when their text does not parse. */
  config: MasqConfig | null;
  author: string;
  updatedAt: string;
}

export type ConfigWrite =
  | { yaml: string; revision: string; message?: string }
  | { config: MasqConfig; revision: string; message?: string };

export interface WindowsList {
  pointer: string;
  form: string;
  exceptions: string[];
}

/** The Windows part of a node detail: what the CNI config holds and what it should hold. */
export interface WindowsDetail {
  snapshot?: { path?: string; lists?: WindowsList[]; readError?: string };
  /** Present once the server judges Windows nodes: the ExceptionList it should hold. */
  desired?: string[];
  [key: string]: unknown;
}

export interface NodeDetail {
  node: NodeSummary & { flags: AgentFlags; hello?: Record<string, unknown> | null };
  desired: { family: "ipv4" | "ipv6"; lines: string[] }[];
  actual: FamilySnapshot[];
  windows?: WindowsDetail | null;
  differences: Difference[];
  events: NodeEvent[];
}

export interface EvaluateResponse {
  desired: Verdict | { error: string };
  actual: Verdict | { error: string };
}

export interface Revision {
  revision: string;
  generation?: number;
  valid?: boolean;
  author: string;
  time: string | number;
  message: string;
  yaml: string;
  config: MasqConfig | null;
  diff: ConfigDiff;
}

export interface HistoryResponse {
  revisions: Revision[];
}

export interface ErrorBody {
  error: string;
  errors?: Issue[];
  current?: ConflictCurrent;
}

/** SSE payloads (GET /api/events). */
export interface HelloEvent {
  nodes: NodeSummary[];
  summary?: FleetSummary;
  config?: ConfigEvent;
  rollout?: Rollout | null;
}
export interface FleetEvent {
  nodes: NodeSummary[];
  removed?: string[];
  summary?: FleetSummary;
}
export interface ConfigEvent {
  revision: string;
  generation: number | null;
  valid: boolean;
}
