// What most reporters' hellos have in common — the agent flags, the kernel, iptables and
// reporter versions, the rule backends — held once for the fleet instead of once per node
// (issue 17: memory per connected node). Equal means equal serialization; nothing is shared
// otherwise, so every node's record says exactly what its reporter said.
import type { Hello } from "@masq/shared";

/** Distinct values kept per pool; past this many a pool starts over (sharing is an economy). */
const MAX_SHARED = 1024;

const texts = new Map<string, string>();
const flagsPool = new Map<string, Hello["flags"]>();
const backendsPool = new Map<string, NonNullable<Hello["ruleBackends"]>>();

function shared<T>(pool: Map<string, T>, key: string, value: T): T {
  const known = pool.get(key);
  if (known !== undefined) return known;
  if (pool.size >= MAX_SHARED) pool.clear();
  pool.set(key, value);
  return value;
}

const text = (s: string): string => shared(texts, s, s);

/**
 * The hello with its common parts replaced by the fleet's copies of equal values. The caller
 * must not change what it gets: other nodes' records hold the same objects.
 */
export function sharedHello(hello: Hello): Hello {
  const out: Hello = {
    ...hello,
    kernel: text(hello.kernel),
    iptablesVersion: text(hello.iptablesVersion),
    reporterVersion: text(hello.reporterVersion),
    flags: shared(flagsPool, JSON.stringify(hello.flags), hello.flags),
  };
  if (hello.ruleBackends !== undefined)
    out.ruleBackends = shared(backendsPool, hello.ruleBackends.join(","), hello.ruleBackends);
  return out;
}
