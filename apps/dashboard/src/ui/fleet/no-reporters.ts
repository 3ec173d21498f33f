// The commands the empty fleet page gives for a first standalone node: its own token (derived
// from the dashboard's reporter secret, which a reporter does not hold) and the reporter itself.
import { shellWord } from "@masq/shared";

/** `host` as the browser has it, one shell word (an IPv6 host's brackets are a glob). */
export function firstNodeCommands(scheme: "ws" | "wss", host: string): string[] {
  const url = shellWord(`${scheme}://${host}/api/reporter`);
  return [
    "ipmasq token --node NODE_NAME --secret-file DATA_DIR/reporter-token --out NODE_NAME.token",
    `ipmasq run --dashboard ${url} --node NODE_NAME --token-file NODE_NAME.token`,
  ];
}
