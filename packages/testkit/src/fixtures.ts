// Protocol messages for tests and benchmarks that play a reporter.
import { DEFAULT_FLAGS, type Hello, PROTOCOL_VERSION } from "@masq/shared";

/** A Linux enforce-mode reporter's hello (in-memory backend); override what a test needs. */
export function helloFor(node: string, over: Partial<Hello> = {}): Hello {
  return {
    type: "hello",
    v: PROTOCOL_VERSION,
    node,
    os: "linux",
    kernel: "6.1.0-test",
    iptablesVersion: "v1.8.9 (nf_tables)",
    backend: "memory",
    randomFullySupported: true,
    mode: "enforce",
    flags: DEFAULT_FLAGS,
    reporterVersion: "test",
    appliedGeneration: null,
    ...over,
  };
}
