// The commands the empty fleet page gives for a first standalone node: its own token (derived
// from the dashboard's reporter secret, which a reporter does not hold) and the reporter itself.
export function firstNodeCommands(scheme: "ws" | "wss", host: string): string[] {
  return [
    "ipmasq token --node NODE_NAME --secret-file DATA_DIR/reporter-token --out NODE_NAME.token",
    `ipmasq run --dashboard ${scheme}://${host}/api/reporter --node NODE_NAME --token-file NODE_NAME.token`,
  ];
}
