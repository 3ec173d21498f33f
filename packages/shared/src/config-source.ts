// Where one piece of a merged config comes from: a key of a ConfigMap, or a file. Shared by the
// merge (config-merge.ts), the dashboard's stores and API, and the reporter's directory mode.
import { z } from "zod";
import { MAX_SOURCE_NAME_CHARS } from "./limits.js";

/** The one ConfigMap upstream ip-masq-agent reads, and its key. */
export const PRIMARY_SOURCE_NAME = "ip-masq-agent";
export const PRIMARY_SOURCE_KEY = "config";
/** Names of further sources start with this (the dashboard's and the chart's default). */
export const DEFAULT_SOURCE_PREFIX = "ip-masq-";

export const configSourceSchema = z.strictObject({
  kind: z.enum(["configmap", "file"]),
  /** The ConfigMap's name, or the file's name (no directory). */
  name: z.string().min(1).max(MAX_SOURCE_NAME_CHARS),
  /** The ConfigMap key; for a file, its name again. */
  key: z.string().min(1).max(MAX_SOURCE_NAME_CHARS),
});
export type ConfigSource = z.infer<typeof configSourceSchema>;

/** One source's text as read (upstream format: YAML or JSON). */
export interface SourceText {
  source: ConfigSource;
  text: string;
  /** The text's real size in UTF-8 bytes when the reader cut it (the merge refuses it). */
  bytes?: number;
}

/** "ConfigMap ip-masq-app key config" / "file ip-masq-app": how a person names a source. */
export function sourceLabel(s: ConfigSource): string {
  return s.kind === "configmap" ? `ConfigMap ${s.name} key ${s.key}` : `file ${s.name}`;
}

/** A stable id for a source (API parameters, maps): `configmap/NAME/KEY` or `file/NAME`. */
export function sourceId(s: ConfigSource): string {
  return s.kind === "configmap" ? `configmap/${s.name}/${s.key}` : `file/${s.name}`;
}

/** The source a `sourceId` names, or undefined when the text is not one. */
export function parseSourceId(id: string): ConfigSource | undefined {
  const parts = id.split("/");
  const [kind, name, key] = parts;
  const cand =
    kind === "file" && parts.length === 2
      ? { kind, name, key: name }
      : kind === "configmap" && parts.length === 3
        ? { kind, name, key }
        : undefined;
  const r = configSourceSchema.safeParse(cand);
  return r.success ? r.data : undefined;
}

/** Whether a ConfigMap or file name is a config source (the primary name, or the prefix). */
export function isSourceName(name: string, prefix: string = DEFAULT_SOURCE_PREFIX): boolean {
  return name === PRIMARY_SOURCE_NAME || (prefix !== "" && name.startsWith(prefix));
}

/** Sources in the order they are merged: by name, then key (ip-masq-agent-v2 reads a sorted directory). */
export function compareSources(a: ConfigSource, b: ConfigSource): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}
