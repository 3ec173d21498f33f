// The stream's state as the header says it. Before the first hello (a page opened signed out,
// about to be sent to /login) it is still connecting: "Reconnecting…" there claimed a
// connection that never was.

export type Connection = "connecting" | "live" | "reconnecting" | "polling";

/** The state after the stream failed, from the state before. */
export function connectionOnError(before: Connection): Connection {
  return before === "connecting" ? "connecting" : "reconnecting";
}
