import { createMemoryBackend } from "@masq/reporter/backend/memory";
import {
  type AgentFlags,
  DEFAULT_FLAGS,
  DesiredChains,
  defaultConfig,
  listedOrder,
  type MasqConfig,
} from "@masq/shared";
import { describe, expect, it } from "vitest";

// What real iptables 1.8 (nf_tables and legacy) -S prints for the agent's rules: addresses
// first, then the match modules and the target as written.
describe("listedOrder", () => {
  const C = '-m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE"';
  const cases: { desc: string; input: string; want: string | undefined }[] = [
    {
      desc: "a RETURN: the comment after -d",
      input: `-A IP-MASQ-AGENT ${C} -d 169.254.0.0/16 -j RETURN`,
      want: `-A IP-MASQ-AGENT -d 169.254.0.0/16 ${C} -j RETURN`,
    },
    {
      desc: "the final MASQUERADE: as written",
      input: '-A IP-MASQ-AGENT -m comment --comment "x y" -j MASQUERADE --random-fully',
      want: '-A IP-MASQ-AGENT -m comment --comment "x y" -j MASQUERADE --random-fully',
    },
    {
      desc: "negations, long names and the print order of addresses, interfaces, protocol",
      input: "-A X -p tcp ! --destination 10.0.0.0/8 -o eth0 -s 192.0.2.0/24 -j RETURN",
      want: "-A X -s 192.0.2.0/24 ! -d 10.0.0.0/8 -o eth0 -p tcp -j RETURN",
    },
    { desc: "not a rule", input: "-N X", want: undefined },
    { desc: "an unterminated quote", input: '-A X -m comment --comment "x', want: undefined },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(listedOrder(input)).toBe(want);
  });
});

const config = (over: Partial<MasqConfig>): MasqConfig => ({ ...defaultConfig(), ...over });

describe("agent chains rendered here are what a node holds after applying", () => {
  const cases: { desc: string; input: { config: MasqConfig; flags: AgentFlags } }[] = [
    { desc: "the default config", input: { config: defaultConfig(), flags: DEFAULT_FLAGS } },
    {
      desc: "CIDRs out of order, link-local masqueraded",
      input: {
        config: config({
          nonMasqueradeCIDRs: ["192.168.0.0/16", "10.0.0.0/8"],
          masqLinkLocal: true,
        }),
        flags: DEFAULT_FLAGS,
      },
    },
    {
      desc: "random-fully and IPv6",
      input: {
        config: config({ nonMasqueradeCIDRs: ["10.0.0.0/8", "fd00::/8"] }),
        flags: { ...DEFAULT_FLAGS, randomFully: true, enableIPv6: true },
      },
    },
    {
      desc: "another chain name",
      input: { config: defaultConfig(), flags: { ...DEFAULT_FLAGS, masqChain: "IP-MASQ" } },
    },
  ];
  it.each(cases)("$desc", async ({ input }) => {
    const backend = createMemoryBackend({ flags: input.flags });
    expect((await backend.apply(input.config, "desired")).ok).toBe(true);
    const held = (await backend.read()).map((f) =>
      f.chains.find((c) => c.name === input.flags.masqChain),
    );
    const desired = { revision: 2, resourceVersion: "7", config: input.config };
    const rendered = new DesiredChains().of(desired, input.flags);
    for (const chain of held) expect(rendered).toContainEqual(chain);
  });

  it("renders each (revision, flags) once", () => {
    const chains = new DesiredChains();
    const desired = { revision: 2, resourceVersion: "7", config: defaultConfig() };
    expect(chains.of(desired, DEFAULT_FLAGS)).toBe(chains.of(desired, { ...DEFAULT_FLAGS }));
    expect(chains.of({ ...desired, revision: 3 }, DEFAULT_FLAGS)).not.toBe(
      chains.of(desired, DEFAULT_FLAGS),
    );
  });
});
