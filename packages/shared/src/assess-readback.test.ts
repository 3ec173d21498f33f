// What `iptables -S` prints back after the agent's own payload must assess as exactly in sync.
// The lines below were captured from iptables v1.8.9 (nf_tables) after restoring
// renderApplyPayload(defaultConfig(), {toPorts: "1024-29999,32768-65535"}).
import { describe, expect, it } from "vitest";
import { evaluate } from "./analysis/evaluate.js";
import { analyzeFamily } from "./analysis/ruleset.js";
import { assessLinux } from "./assess.js";
import { DEFAULT_FLAGS, defaultConfig } from "./config.js";
import { snapshotOf } from "./snapshot.js";

const C =
  '-m comment --comment "ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)"';
const R = '-m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE"';
const CHAIN = [
  "-N IP-MASQ-AGENT",
  ...["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(
    (c) => `-A IP-MASQ-AGENT -d ${c} ${R} -j RETURN`,
  ),
  ...["tcp", "udp", "sctp"].flatMap((p) => [
    `-A IP-MASQ-AGENT -p ${p} ${C} -m statistic --mode random --probability 0.46929256292 -j MASQUERADE --to-ports 1024-29999 --random-fully`,
    `-A IP-MASQ-AGENT -p ${p} ${C} -j MASQUERADE --to-ports 32768-65535 --random-fully`,
  ]),
  `-A IP-MASQ-AGENT ${C} -j MASQUERADE --random-fully`,
];
const POST = [
  "-P POSTROUTING ACCEPT",
  '-A POSTROUTING -m comment --comment "\\"ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ-AGENT chain\\"" -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT',
];
const flags = { ...DEFAULT_FLAGS, toPorts: "1024-29999,32768-65535" };

describe("read-back of the agent's own --to-ports chain", () => {
  it("is in sync with no cosmetic difference (protocol/probability are not foreign conditions)", () => {
    const a = assessLinux(defaultConfig(), flags, [
      snapshotOf({ family: "ipv4", chain: CHAIN, postrouting: POST }),
    ]);
    expect(a.report.differences).toEqual([]);
    expect(a.report.status).toBe("in-sync");
  });

  it("still flags a jump limited to one protocol as conditional", () => {
    const post = ["-P POSTROUTING ACCEPT", "-A POSTROUTING -p tcp -j IP-MASQ-AGENT"];
    const a = analyzeFamily({
      family: "ipv4",
      chain: "IP-MASQ-AGENT",
      chainText: CHAIN.join("\n"),
      postroutingText: post.join("\n"),
    });
    expect(a.jumps[0]?.conditions).toContain("-p tcp");
    const v = evaluate(a, "8.8.8.8");
    if ("error" in v) throw new Error(v.error);
    expect(v.masqueraded).toBeNull();
    // TCP goes through the chain (and its --to-ports rules); other protocols never reach it.
    expect(v.outcomes.map((o) => [o.when[0], o.masqueraded])).toEqual([
      ["-p tcp", true],
      ["-p tcp", true],
      ["! -p tcp", false],
    ]);
  });

  it("still sees a real probability change as drift", () => {
    const chain = CHAIN.map((l) => l.replace("0.46929256292", "0.25000000000"));
    const a = assessLinux(defaultConfig(), flags, [
      snapshotOf({ family: "ipv4", chain, postrouting: POST }),
    ]);
    expect(a.report.differences.map((d) => d.kind)).toContain("masquerade-options");
  });
});
