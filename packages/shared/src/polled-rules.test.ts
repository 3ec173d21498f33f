import { describe, expect, it } from "vitest";
import type { RulesBackend } from "./node-verdicts.js";
import { polledRules } from "./polled-rules.js";
import type { BackendKind } from "./protocol.js";

describe("polledRules", () => {
  const cases: {
    desc: string;
    input: { written: BackendKind; backends: RulesBackend[]; intervalMs?: number };
    want: { backends: string[]; note: RegExp } | null;
  }[] = [
    {
      desc: "nf_tables alone, watched by xtables-monitor: no delay claimed",
      input: { written: "nf_tables", backends: ["nf_tables"] },
      want: null,
    },
    {
      desc: "a native nftables node, watched by nft monitor: no delay claimed",
      input: { written: "nftables", backends: ["nftables", "nf_tables"] },
      want: null,
    },
    {
      desc: "legacy rules beside the watched nf_tables: legacy alone is polled",
      input: { written: "nf_tables", backends: ["nf_tables", "legacy"] },
      want: {
        backends: ["legacy"],
        note: /^iptables-legacy is polled, not watched \(iptables-legacy has no change events\): its reporter re-reads it every 10 s unless IPMASQ_POLL_INTERVAL says otherwise \(reporters do not report theirs\) and sends the node's rules only when they change \(that time is when it last sent them, not its last poll\), so a change made there since the last poll is not in this answer yet$/,
      },
    },
    {
      desc: "the reporter writes to legacy: no monitor runs, every backend is polled",
      input: { written: "legacy", backends: ["legacy", "nf_tables"] },
      want: {
        backends: ["legacy", "nf_tables"],
        note: /^iptables-legacy and iptables-nft \(nf_tables\) are polled, not watched \(the reporter writes to iptables-legacy and runs no change monitor\)/,
      },
    },
    {
      desc: "legacy on a native nftables node: polled",
      input: { written: "nftables", backends: ["nftables", "legacy"] },
      want: { backends: ["legacy"], note: /^iptables-legacy is polled, not watched/ },
    },
    {
      desc: "the interval, when reported, is said as it is",
      input: { written: "legacy", backends: ["legacy"], intervalMs: 5000 },
      want: {
        backends: ["legacy"],
        note: /re-reads it every 5 s \(its poll interval\) and sends the node's rules only when they change \(that time is when it last sent them, not its last poll\), so a change made there since the last poll is not in this answer yet$/,
      },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const got = polledRules(input.written, input.backends, 1000, input.intervalMs ?? null);
    if (want === null) return expect(got).toBeNull();
    expect(got?.backends).toEqual(want.backends);
    expect(got?.reportedAt).toBe(1000);
    expect(got?.note).toMatch(want.note);
  });
});
