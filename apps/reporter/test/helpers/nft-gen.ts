// Random native nftables rule sets for the kernel-versus-evaluator differential test
// (differential-packet.test.ts), in the shapes nftables nodes have (the nft dump fixtures'
// specs, packages/testkit/src/nft-dumps/specs.ts): the agent's own `inet ip_masq_agent` table as
// the reporter writes it (renderNftApply, a random config), kube-proxy's nftables mode (mark
// 0x4000 masqueraded in `masquerading`, reached from `nat-postrouting`), flannel's nftables mode,
// and users' tables: base chains on nat postrouting at priorities below, at and above srcnat
// (equal priorities run in an order not in the rules), with regular chains reached by jump and
// goto. Marks are set in a filter prerouting chain by source. Addresses are nat-gen.ts's.
import { DEFAULT_FLAGS, defaultConfig, renderNftApply } from "@masq/shared";
import fc from "fast-check";
import { type GeneratedNode, MARKED_SOURCES } from "./nat-gen.js";

const POD_RANGES = ["10.244.0.0/16", "10.244.0.0/24", "10.244.1.0/24", "10.244.1.128/25"];
const DEST_RANGES = [
  "10.0.0.0/8",
  "10.10.0.0/24",
  "10.10.0.128/25",
  "10.10.0.2",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "203.0.113.2",
  "224.0.0.0/4",
];
const SNAT_TO = ["192.0.2.1", "192.0.2.7"];
/** Base chain priorities: srcnat (100), one before it and one after. */
const PRIORITIES = [50, 100, 100, 150];

const verdict = fc.constantFrom(
  "return",
  "accept",
  "masquerade",
  "masquerade fully-random",
  ...SNAT_TO.map((a) => `snat to ${a}`),
);

/** A match (or none) of what why is told of each packet: its addresses and its mark. */
const match = fc.oneof(
  fc.constant(""),
  fc.constantFrom(...DEST_RANGES).map((r) => `ip daddr ${r}`),
  fc.constantFrom(...DEST_RANGES).map((r) => `ip daddr != ${r}`),
  fc.constantFrom(...POD_RANGES).map((r) => `ip saddr ${r}`),
  fc
    .tuple(fc.constantFrom(...POD_RANGES), fc.constantFrom(...DEST_RANGES))
    .map(([s, d]) => `ip saddr ${s} ip daddr ${d}`),
  fc.constantFrom("meta mark 0x4000", "meta mark & 0x4000 == 0x4000", "meta mark & 0x4000 == 0"),
  fc.constantFrom(...DEST_RANGES).map((r) => `meta l4proto udp ip daddr ${r}`),
  fc.constant("udp dport 5353"),
);

const rule = (to: fc.Arbitrary<string>) =>
  fc.tuple(match, to).map(([m, v]) => `${m ? `${m} ` : ""}${v}`);

/** One user table: a base chain on nat postrouting, maybe a regular chain it jumps to. */
const userTable = (n: number) =>
  fc
    .record({
      family: fc.constantFrom("ip", "inet"),
      priority: fc.constantFrom(...PRIORITIES),
      base: fc.array(rule(verdict), { minLength: 1, maxLength: 4 }),
      sub: fc.array(rule(verdict), { maxLength: 3 }),
      call: fc.option(rule(fc.constantFrom("jump sub", "goto sub")), { nil: undefined }),
      callAt: fc.nat(),
    })
    .map(({ family, priority, base, sub, call, callAt }) => {
      const t = `${family} user${n}`;
      const rules = [...base];
      if (call) rules.splice(callAt % (rules.length + 1), 0, call);
      // An inet table's snat names the family of its address.
      const inFamily = (r: string) =>
        family === "inet" ? r.replace("snat to ", "snat ip to ") : r;
      return [
        `add table ${t}`,
        `add chain ${t} post { type nat hook postrouting priority ${priority} ; }`,
        `add chain ${t} sub`,
        ...sub.map((r) => `add rule ${t} sub ${inFamily(r)}`),
        ...rules.map((r) => `add rule ${t} post ${inFamily(r)}`),
      ];
    });

/** kube-proxy's nftables mode: packets it marked 0x4000 are masqueraded (specs.ts). */
const kubeProxy = fc
  .constantFrom(50, 100, 150)
  .map((priority) => [
    "add table ip kube-proxy",
    "add chain ip kube-proxy masquerading",
    `add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority ${priority} ; }`,
    "add rule ip kube-proxy masquerading mark and 0x4000 == 0 return",
    "add rule ip kube-proxy masquerading mark set mark xor 0x4000",
    "add rule ip kube-proxy masquerading masquerade fully-random",
    "add rule ip kube-proxy nat-postrouting jump masquerading",
  ]);

/** flannel's nftables mode with --ip-masq, this node's pods 10.244.1.0/24 (specs.ts). */
const flannel = fc.constant([
  "add table ip flannel-ipv4",
  "add chain ip flannel-ipv4 postrtg { type nat hook postrouting priority srcnat ; }",
  "add rule ip flannel-ipv4 postrtg meta mark 0x4000 return",
  "add rule ip flannel-ipv4 postrtg ip saddr 10.244.0.0/16 ip daddr 10.244.0.0/16 return",
  "add rule ip flannel-ipv4 postrtg ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random",
  "add rule ip flannel-ipv4 postrtg ip saddr != 10.244.0.0/16 ip daddr 10.244.1.0/24 return",
]);

/** The agent's table as the reporter writes it, for a random config and flags. */
const agent = fc
  .record({
    cidrs: fc.subarray([...DEST_RANGES.filter((r) => r !== "224.0.0.0/4"), "10.244.0.0/16"]),
    masqLinkLocal: fc.boolean(),
    randomFully: fc.boolean(),
  })
  .map(({ cidrs, masqLinkLocal, randomFully }) =>
    renderNftApply(
      {
        ...defaultConfig(),
        nonMasqueradeCIDRs: cidrs.map((c) => (c.includes("/") ? c : `${c}/32`)),
        masqLinkLocal,
      },
      { ...DEFAULT_FLAGS, randomFully },
    )
      .split("\n")
      .filter((l) => l.trim() !== ""),
  );

/** Marks by source, set before routing as kube-proxy's and CNIs' mangle rules do. */
const marks = fc
  .uniqueArray(
    fc.record({
      src: fc.constantFrom(...MARKED_SOURCES),
      value: fc.constantFrom(0x4000, 0x4001, 0x1, 0x80004000),
    }),
    { maxLength: 2, selector: (m) => m.src },
  )
  .map((list) => ({
    rules:
      list.length === 0
        ? []
        : [
            "add table ip marks",
            "add chain ip marks pre { type filter hook prerouting priority mangle ; }",
            ...list.map(
              (m) =>
                `add rule ip marks pre ip saddr ${m.src} meta mark set 0x${m.value.toString(16)}`,
            ),
          ],
    marks: Object.fromEntries(list.map((m) => [m.src, m.value])),
  }));

const PARTS = { agent, kubeProxy, flannel };

/** A native nftables node: some of the shapes and 0–2 users' tables; `nat` is an nft script. */
export const nftNodeRules: fc.Arbitrary<{ node: GeneratedNode; shapes: string[] }> = fc
  .record({
    shapes: fc.subarray(Object.keys(PARTS) as (keyof typeof PARTS)[]),
    users: fc.integer({ min: 0, max: 2 }),
    marks,
  })
  .filter(({ shapes, users }) => shapes.length + users > 0)
  .chain(({ shapes, users, marks }) =>
    fc
      .tuple(
        fc.tuple(...shapes.map((s) => PARTS[s] as fc.Arbitrary<string[]>)),
        fc.tuple(...Array.from({ length: users }, (_, i) => userTable(i))),
      )
      .map(([parts, tables]) => ({
        node: {
          nat: `${[...marks.rules, ...parts.flat(), ...tables.flat()].join("\n")}\n`,
          mangle: "",
          marks: marks.marks,
          ipsets: {},
        },
        shapes: [...shapes, ...tables.map((_, i) => `user${i}`)],
      })),
  );
