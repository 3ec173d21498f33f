// The real-world-shaped Windows CNI configs (flannel, win-bridge/overlay, sdnbridge, Calico,
// Azure, OVN-Kubernetes) that the CNI tests of packages/shared and the apps' Windows tests are
// built on. One home, one import path: `@masq/testkit/cni-configs`.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Absolute path of the folder holding the configs. */
export const CNI_CONFIGS_DIR = join(import.meta.dirname, "cni-configs");

/** Absolute path of one config, e.g. cniConfigPath("flannel-win-overlay.conflist"). */
export function cniConfigPath(name: string): string {
  return join(CNI_CONFIGS_DIR, name);
}

/** The text of one config (UTF-8, BOM kept). */
export function cniConfigText(name: string): string {
  return readFileSync(cniConfigPath(name), "utf8");
}
