// `iptables -V` output: the version and the backend it speaks to.
import type { IptablesBackend } from "@masq/shared";

export function parseIptablesVersion(text: string): {
  version: string;
  backend: IptablesBackend;
} {
  const version = /v(\d+(?:\.\d+)+)/.exec(text)?.[1];
  if (!version) throw new Error(`cannot read the iptables version from "${text.trim()}"`);
  return { version: `v${version}`, backend: /nf_tables/.test(text) ? "nf_tables" : "legacy" };
}

export function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.replace(/^v/, "").split(".").map(Number);
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0;
    if (a !== min[i]) return a > min[i]!;
  }
  return true;
}
