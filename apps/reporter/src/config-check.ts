// The one gate every config passes before it may touch a node, whatever its source
// (dashboard, mounted ConfigMap, state file, CLI).
import {
  type AgentFlags,
  type MasqConfig,
  masqConfigSchema,
  parseToPorts,
  validateConfig,
} from "@masq/shared";

/** Why this config must not be written, or undefined when it is valid for these flags. */
export function refusal(config: MasqConfig, flags: AgentFlags): string | undefined {
  const shape = masqConfigSchema.safeParse(config);
  if (!shape.success) return `config refused: ${shape.error.issues[0]?.message ?? "malformed"}`;
  const ports = parseToPorts(flags.toPorts);
  if (!ports.ok) return `config refused: agent flag --to-ports: ${ports.message}`;
  const { errors } = validateConfig(config, flags);
  if (errors.length > 0) return `config refused: ${errors.map((e) => e.message).join("; ")}`;
  return undefined;
}
