import { familySnapshotSchema } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { fakeIptables } from "../../test/helpers/fake-iptables.js";
import { readFamily } from "./family-read.js";

const AGENT = "IP-MASQ-AGENT";
const read = (nat: Record<string, string[]>, maxChains?: number) => {
  const fake = fakeIptables({ version: "iptables v1.8.9 (nf_tables)", tables: { nat } });
  return readFamily({
    run: fake.run,
    family: "ipv4",
    backend: "legacy",
    tools: { list: "iptables-legacy", restore: "iptables-legacy-restore" },
    agentChain: AGENT,
    ...(maxChains ? { bounds: { maxChains } } : {}),
  });
};

describe("readFamily", () => {
  const cases: {
    desc: string;
    input: Record<string, string[]>;
    want: { agent: string[] | null | undefined; readError?: RegExp; unread?: string[] };
  }[] = [
    {
      desc: "a missing agent chain nothing jumps to does not exist",
      input: { POSTROUTING: ["-P POSTROUTING ACCEPT"] },
      want: { agent: null },
    },
    {
      desc: "a missing agent chain something jumps to is a read error (the kernel says it exists)",
      input: {
        POSTROUTING: ["-P POSTROUTING ACCEPT", "-A POSTROUTING -j X"],
        X: ["-N X", `-A X -j ${AGENT}`],
      },
      want: { agent: null, readError: /IP-MASQ-AGENT is jumped to but iptables cannot list it/ },
    },
    {
      desc: "an unlistable chain on the path is unread, never a read error",
      input: {
        POSTROUTING: ["-P POSTROUTING ACCEPT", "-A POSTROUTING -j GONE"],
        [AGENT]: [`-N ${AGENT}`],
      },
      want: { agent: [`-N ${AGENT}`], unread: ["GONE"] },
    },
  ];
  for (const c of cases) {
    it(c.desc, async () => {
      const snap = await read(c.input);
      expect(snap.backend).toBe("legacy");
      expect(snap.chains.find((x) => x.name === AGENT)?.lines).toEqual(c.want.agent);
      if (c.want.readError) expect(snap.readError).toMatch(c.want.readError);
      else expect(snap.readError).toBeUndefined();
      expect(snap.unread).toEqual(c.want.unread);
    });
  }

  it("names at most as many unread chains as the protocol carries, and says how many more", async () => {
    const many = Array.from({ length: 300 }, (_, i) => `C${i}`);
    const nat = {
      POSTROUTING: ["-P POSTROUTING ACCEPT", ...many.map((c) => `-A POSTROUTING -j ${c}`)],
      ...Object.fromEntries(many.map((c) => [c, [`-N ${c}`]])),
    };
    const snap = await read(nat, 2);
    expect(snap.chains.map((c) => c.name)).toEqual(["POSTROUTING", AGENT]);
    expect(snap.unread).toHaveLength(256);
    expect(snap.unreadNote).toMatch(/more than 2 chains are reachable.*; 44 more not named/);
    expect(familySnapshotSchema.safeParse(snap).success).toBe(true);
  });
});
