// Random nat rule sets in the shapes real nodes have, for the kernel-versus-evaluator
// differential test (differential-packet.test.ts): kube-proxy's KUBE-POSTROUTING (both its mark
// forms), ip-masq-agent's chain and jump, CNI bridge chains, flannel (old and FLANNEL-POSTRTG),
// AWS VPC CNI's SNAT chains, Docker's MASQUERADE, and user chains with nested jumps, gotos,
// ACCEPT/RETURN, `-o` / `! -o`, protocol/port and mark matches. Addresses are this test's own:
// the pods' 10.244.0.0/16, the peers' 10.10.0.0/24, 198.51.100.0/24 and 203.0.113.0/24, and
// 192.0.2.0/24 for SNAT targets; none leaves the test's namespaces.
import fc from "fast-check";

/** The node's interfaces (diff-topology in the test) and a few names no node interface has. */
export const OUT_IFACES = ["to-a", "to-b", "to-+", "to-pod", "docker0", "vlan+", "eth0"];
export const UDP_PORT = 5353;

/** What one generated node holds: its nat and mangle tables, and the marks its pods get. */
export interface GeneratedNode {
  /** iptables-restore text of the nat table. */
  nat: string;
  /** iptables-restore text of the mangle table (marks set in PREROUTING), or "". */
  mangle: string;
  /** The mark a source's packets carry in nat POSTROUTING (0 when absent). */
  marks: Record<string, number>;
  /** ipsets (hash:net) the rules match, to be made before the rules: name → members. */
  ipsets: Record<string, string[]>;
}

const POD_RANGES = [
  "10.244.0.0/16",
  "10.244.0.0/24",
  "10.244.1.0/24",
  "10.244.0.0/26",
  "10.244.1.128/25",
];
const DEST_RANGES = [
  "10.0.0.0/8",
  "10.10.0.0/24",
  "10.10.0.128/25",
  "10.10.0.2/32",
  "198.51.100.0/24",
  "198.51.100.0/25",
  "203.0.113.0/24",
  "203.0.113.2/32",
  "169.254.0.0/16",
  "192.0.2.0/24",
  "224.0.0.0/4",
  "10.244.0.0/16",
];
/** iptables-save prints these in canonical form (/25, 10.10.0.0/24). */
const ODD_FORMS = ["10.10.0.0/255.255.255.128", "10.10.0.7/24", "198.51.100.2"];
const ANY_RANGE = [...POD_RANGES, ...DEST_RANGES, ...ODD_FORMS];
const SNAT_TO = ["192.0.2.1", "192.0.2.7", "198.51.100.1"];
export const MARKED_SOURCES = ["10.244.1.0/24", "10.244.0.2/32", "10.244.1.200/32"];

const randomFully = fc.constantFrom("", " --random-fully");
const comment = (text: string) => ` -m comment --comment "${text.replace(/"/g, '\\"')}"`;

interface Part {
  /** Rules appended to POSTROUTING (usually one jump). */
  entry: string[];
  /** Chain name → its rules (without "-A NAME"). */
  chains: [string, string[]][];
  ipsets?: Record<string, string[]>;
}

const kubeProxy: fc.Arbitrary<Part> = fc
  .record({ modern: fc.boolean(), rf: randomFully })
  .map(({ modern, rf }) => ({
    entry: [`${comment("kubernetes postrouting rules")} -j KUBE-POSTROUTING`],
    chains: [
      [
        "KUBE-POSTROUTING",
        modern
          ? [
              " -m mark ! --mark 0x4000/0x4000 -j RETURN",
              " -j MARK --xor-mark 0x4000",
              `${comment("kubernetes service traffic requiring SNAT")} -j MASQUERADE${rf}`,
            ]
          : [
              `${comment("kubernetes service traffic requiring SNAT")} -m mark --mark 0x4000/0x4000 -j MASQUERADE${rf}`,
            ],
      ],
    ],
  }));

const LOCAL = comment("ip-masq-agent: local traffic is not subject to MASQUERADE");
const ipMasqAgent: fc.Arbitrary<Part> = fc
  .record({
    cidrs: fc.uniqueArray(fc.constantFrom(...DEST_RANGES, "10.244.0.0/16"), { maxLength: 5 }),
    masq: fc.constantFrom("MASQUERADE", "MASQUERADE --random-fully", ""),
    addrtype: fc.boolean(),
    // Two jumps (two agents, or an old one left behind), and a RETURN added by hand after the
    // catch-all MASQUERADE (never reached), as seen on real nodes.
    jumps: fc.integer({ min: 1, max: 2 }),
    late: fc.option(fc.constantFrom(...DEST_RANGES), { nil: undefined }),
  })
  .map(({ cidrs, masq, addrtype, jumps, late }) => ({
    entry: Array.from(
      { length: jumps },
      () =>
        `${comment("ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ-AGENT chain")}${addrtype ? " -m addrtype ! --dst-type LOCAL" : ""} -j IP-MASQ-AGENT`,
    ),
    chains: [
      [
        "IP-MASQ-AGENT",
        [
          ...cidrs.map((c) => ` -d ${c}${LOCAL} -j RETURN`),
          ...(masq
            ? [
                `${comment("ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)")} -j ${masq}`,
              ]
            : []),
          ...(late ? [` -d ${late}${LOCAL} -j RETURN`] : []),
        ],
      ],
    ],
  }));

const cniBridge: fc.Arbitrary<Part> = fc
  .record({
    pods: fc.constantFrom(...POD_RANGES),
    accept: fc.uniqueArray(fc.constantFrom(...POD_RANGES, ...DEST_RANGES), {
      minLength: 1,
      maxLength: 2,
    }),
    id: fc.constantFrom("0a1b2c3d4e5f60718293a4b5", "9f8e7d6c5b4a392817160504"),
    multicast: fc.boolean(),
  })
  .map(({ pods, accept, id, multicast }) => {
    const name = `CNI-${id}`;
    const c = comment(`name: "cbr0" id: "${id}"`);
    return {
      entry: [` -s ${pods}${c} -j ${name}`],
      chains: [
        [
          name,
          [
            ...accept.map((d) => ` -d ${d}${c} -j ACCEPT`),
            `${multicast ? " ! -d 224.0.0.0/4" : ""}${c} -j MASQUERADE`,
          ],
        ],
      ],
    };
  });

const flannel: fc.Arbitrary<Part> = fc
  .record({
    cluster: fc.constantFrom("10.244.0.0/16", "10.244.0.0/23"),
    own: fc.constantFrom("10.244.0.0/24", "10.244.1.0/24"),
    chain: fc.boolean(),
    markReturn: fc.boolean(),
    rf: randomFully,
  })
  .map(({ cluster, own, chain, markReturn, rf }) => {
    const c = comment("flanneld masq");
    const rules = [
      ...(markReturn ? [` -m mark --mark 0x4000/0x4000${c} -j RETURN`] : []),
      ` -s ${cluster} -d ${cluster}${c} -j RETURN`,
      ` -s ${cluster} ! -d 224.0.0.0/4${c} -j MASQUERADE${rf}`,
      ` ! -s ${cluster} -d ${own}${c} -j RETURN`,
      ` ! -s ${cluster} -d ${cluster}${c} -j MASQUERADE${rf}`,
    ];
    return chain
      ? { entry: [`${c} -j FLANNEL-POSTRTG`], chains: [["FLANNEL-POSTRTG", rules]] }
      : { entry: rules, chains: [] };
  });

const awsVpcCni: fc.Arbitrary<Part> = fc
  .record({
    vpc: fc.uniqueArray(fc.constantFrom(...DEST_RANGES), { minLength: 1, maxLength: 3 }),
    to: fc.constantFrom(...SNAT_TO),
    rf: randomFully,
    iface: fc.constantFrom("vlan+", "to-b", "to-+"),
    twoChains: fc.boolean(),
  })
  .map(({ vpc, to, rf, iface, twoChains }) => {
    const snat = ` ! -o ${iface}${comment("AWS, SNAT")} -m addrtype ! --dst-type LOCAL -j SNAT --to-source ${to}${rf}`;
    const c = comment("AWS SNAT CHAIN");
    const chains: [string, string[]][] = twoChains
      ? [
          ["AWS-SNAT-CHAIN-0", [` ! -d ${vpc[0]}${c} -j AWS-SNAT-CHAIN-1`]],
          ["AWS-SNAT-CHAIN-1", [snat]],
        ]
      : [["AWS-SNAT-CHAIN-0", [...vpc.map((d) => ` -d ${d}${c} -j RETURN`), snat]]];
    return { entry: [`${c} -j AWS-SNAT-CHAIN-0`], chains };
  });

const docker: fc.Arbitrary<Part> = fc
  .record({
    src: fc.constantFrom(...POD_RANGES),
    iface: fc.constantFrom("docker0", "to-a", "to-b", "to-+"),
    negated: fc.boolean(),
  })
  .map(({ src, iface, negated }) => ({
    entry: [` -s ${src} ${negated ? "! " : ""}-o ${iface} -j MASQUERADE`],
    chains: [],
  }));

/** Calico's nat-outgoing: masquerade from its IPAM pools' set to what is in no pool's set. */
const calico: fc.Arbitrary<Part> = fc
  .record({
    masqPools: fc.uniqueArray(fc.constantFrom(...POD_RANGES), { minLength: 1, maxLength: 2 }),
    otherPools: fc.uniqueArray(fc.constantFrom(...POD_RANGES, "10.10.0.0/24", "203.0.113.0/24"), {
      maxLength: 2,
    }),
  })
  .map(({ masqPools, otherPools }) => {
    const c = (id: string) => comment(`cali:${id}`);
    return {
      entry: [`${c("O3lYWMrLQYEMJtB5")} -j cali-POSTROUTING`],
      chains: [
        [
          "cali-POSTROUTING",
          [
            `${c("Z-c7XtVd2Bq7s_hA")} -j cali-fip-snat`,
            `${c("nYKhEzDlr11Jccal")} -j cali-nat-outgoing`,
            ` -o tunl0${c("SXWvdsbh4Mw7wOln")} -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE --random-fully`,
          ],
        ],
        ["cali-fip-snat", []],
        [
          "cali-nat-outgoing",
          [
            `${c("flqWnvo8yq4ULQLa")} -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully`,
          ],
        ],
      ],
      ipsets: {
        "cali40masq-ipam-pools": masqPools,
        "cali40all-ipam-pools": [...new Set([...masqPools, ...otherPools])],
      },
    };
  });

/** A match for a user chain's rule: one to three of addresses, interfaces, protocol, mark. */
const match: fc.Arbitrary<string> = fc
  .record({
    s: fc.option(fc.tuple(fc.boolean(), fc.constantFrom(...ANY_RANGE)), { nil: undefined }),
    d: fc.option(fc.tuple(fc.boolean(), fc.constantFrom(...ANY_RANGE)), { nil: undefined }),
    o: fc.option(fc.tuple(fc.boolean(), fc.constantFrom(...OUT_IFACES)), { nil: undefined }),
    p: fc.option(
      fc.constantFrom(
        "-p udp",
        "-p tcp",
        `-p udp -m udp --dport ${UDP_PORT}`,
        "-p udp -m udp --dport 53",
        `-p udp -m multiport --dports 1000:6000`,
        "! -p tcp",
        "-p udp -m udp ! --dport 53",
        "-p 17",
      ),
      { nil: undefined },
    ),
    other: fc.option(
      fc.constantFrom(
        "-m iprange --dst-range 198.51.100.1-198.51.100.10",
        "-m iprange ! --src-range 10.244.1.100-10.244.1.250",
        "-m addrtype --src-type LOCAL",
        "-m addrtype ! --src-type LOCAL",
        "-m conntrack --ctstate NEW",
        "-m addrtype --dst-type LOCAL",
      ),
      { nil: undefined },
    ),
    mark: fc.option(
      fc.constantFrom(
        "-m mark --mark 0x4000/0x4000",
        "-m mark ! --mark 0x4000/0x4000",
        "-m mark --mark 0x0/0x4000",
        "-m mark --mark 0x1/0x1",
        "-m mark ! --mark 0x0",
        "-m mark --mark 0x80000000/0x80000000",
        "-m mark ! --mark 0x80004000/0xffffffff",
      ),
      { nil: undefined },
    ),
  })
  .map(({ s, d, o, p, other, mark }) =>
    [
      s ? `${s[0] ? "! " : ""}-s ${s[1]}` : "",
      d ? `${d[0] ? "! " : ""}-d ${d[1]}` : "",
      o ? `${o[0] ? "! " : ""}-o ${o[1]}` : "",
      p ?? "",
      other ?? "",
      mark ?? "",
    ]
      .filter(Boolean)
      .join(" "),
  );

const USER_CHAINS = ["NODE-NAT-0", "NODE-NAT-1", "NODE-NAT-2"];

/** A target in user chain i of n: ends, NATs, marks, or calls a later user chain (no loops). */
function target(i: number, n: number): fc.Arbitrary<string> {
  const later = USER_CHAINS.slice(i + 1, n);
  return fc.oneof(
    fc.constantFrom(
      "-j RETURN",
      "-j ACCEPT",
      "-j MASQUERADE",
      "-j MASQUERADE --random-fully",
      "-j SNAT --to-source 192.0.2.7",
      "-j MARK --xor-mark 0x4000",
      "-j MARK --set-xmark 0x4000/0x4000",
      "-j MARK --set-xmark 0x0/0x4000",
      "-j MARK --or-mark 0x1",
      "-j MARK --or-mark 0x80000000",
      "-j MARK --and-mark 0xffffbfff",
      "-j SNAT --to-source 192.0.2.20-192.0.2.21",
      "-j NETMAP --to 192.0.2.0/24",
      "-j LOG --log-prefix nat",
    ),
    ...(later.length > 0 ? [fc.constantFrom(...later.flatMap((c) => [`-j ${c}`, `-g ${c}`]))] : []),
  );
}

const userChains: fc.Arbitrary<Part> = fc
  .integer({ min: 1, max: USER_CHAINS.length })
  .chain((n) =>
    fc.tuple(
      ...USER_CHAINS.slice(0, n).map((_, i) =>
        fc.array(fc.tuple(match, target(i, n)), { minLength: 1, maxLength: 5 }),
      ),
      match,
      // A goto from POSTROUTING: where that chain ends, POSTROUTING's policy applies.
      fc.constantFrom("-j", "-j", "-j", "-g"),
    ),
  )
  .map((t) => {
    const entryMatch = t[t.length - 2] as string;
    const how = t[t.length - 1] as string;
    const chains = (t.slice(0, -2) as [string, string][][]).map(
      (rules, i) =>
        [USER_CHAINS[i]!, rules.map(([m, tg]) => `${m ? ` ${m}` : ""} ${tg}`)] as [
          string,
          string[],
        ],
    );
    return {
      entry: [`${entryMatch ? ` ${entryMatch}` : ""} ${how} ${USER_CHAINS[0]}`],
      chains,
    };
  });

/** A rule straight in POSTROUTING (ACCEPT/RETURN ordering, NAT before or after the jumps). */
const postroutingRule: fc.Arbitrary<Part> = fc
  .tuple(match, target(0, 0))
  .map(([m, t]) => ({ entry: [`${m ? ` ${m}` : ""} ${t}`], chains: [] }));

const marks: fc.Arbitrary<{ rules: string[]; marks: Record<string, number> }> = fc
  .uniqueArray(
    fc.record({
      src: fc.constantFrom(...MARKED_SOURCES),
      value: fc.constantFrom(0x4000, 0x4001, 0x1, 0x80004000, 0x80000000),
    }),
    { maxLength: 2, selector: (m) => m.src },
  )
  .map((list) => ({
    rules: list.map(
      (m) => `-A PREROUTING -s ${m.src} -j MARK --set-xmark 0x${m.value.toString(16)}/0xffffffff`,
    ),
    marks: Object.fromEntries(list.map((m) => [m.src, m.value])),
  }));

const PARTS = {
  kubeProxy,
  ipMasqAgent,
  cniBridge,
  flannel,
  awsVpcCni,
  docker,
  userChains,
  calico,
};

function natTable(parts: readonly Part[]): string {
  const chains = parts.flatMap((p) => p.chains);
  return [
    "*nat",
    ":POSTROUTING ACCEPT [0:0]",
    ...chains.map(([name]) => `:${name} - [0:0]`),
    ...parts.flatMap((p) => p.entry.map((r) => `-A POSTROUTING${r}`)),
    ...chains.flatMap(([name, rules]) => rules.map((r) => `-A ${name}${r}`)),
    "COMMIT",
    "",
  ].join("\n");
}

/** A node's nat POSTROUTING: a shuffled subset of the shapes, plus a few rules of its own. */
export const nodeRules: fc.Arbitrary<{
  node: GeneratedNode;
  shapes: string[];
  /** The same parts split between two iptables backends (each with its own POSTROUTING). */
  split: { first: string; second: string };
}> = fc
  .record({
    shapes: fc.shuffledSubarray(Object.keys(PARTS) as (keyof typeof PARTS)[], { minLength: 1 }),
    extra: fc.array(postroutingRule, { maxLength: 2 }),
    extraAt: fc.nat(),
    marks,
    side: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
  })
  .chain(({ shapes, extra, extraAt, marks, side }) =>
    fc.tuple(...shapes.map((s) => PARTS[s] as fc.Arbitrary<Part>)).map((parts) => {
      const all = [...parts];
      all.splice(extraAt % (all.length + 1), 0, ...extra);
      const mangle =
        marks.rules.length === 0
          ? ""
          : ["*mangle", ":PREROUTING ACCEPT [0:0]", ...marks.rules, "COMMIT", ""].join("\n");
      return {
        node: {
          nat: natTable(all),
          mangle,
          marks: marks.marks,
          ipsets: Object.assign({}, ...all.map((p) => p.ipsets ?? {})),
        },
        shapes: [...shapes, ...extra.map(() => "postrouting-rule")],
        split: {
          first: natTable(all.filter((_, i) => side[i])),
          second: natTable(all.filter((_, i) => !side[i])),
        },
      };
    }),
  );

/**
 * The same rule sets for ip6tables: every IPv4 address and prefix is moved into the
 * documentation prefix 2001:db8::/96 (10.244.0.0/24 is 2001:db8::af4:0/120), so ranges nest and
 * differ exactly as they do in IPv4.
 */
export const IPV6_MAP = {
  /** An IPv4 address as its IPv6 twin, as Node and iproute2 print it. */
  address(v4: string): string {
    const n = v4.split(".").reduce((x, o) => x * 256 + Number(o), 0);
    return `2001:db8::${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  },
  /** Every IPv4 address (with a /prefix or a dotted /mask) in rule text, as its IPv6 twin. */
  text(text: string): string {
    return text.replace(
      /\b(\d+\.\d+\.\d+\.\d+)(\/(\d+\.\d+\.\d+\.\d+|\d+))?/g,
      (_, a: string, _p, mask: string | undefined) => {
        if (mask === undefined) return IPV6_MAP.address(a);
        const bits = mask.includes(".")
          ? mask
              .split(".")
              .reduce((x, o) => x + (Number(o).toString(2).match(/1/g)?.length ?? 0), 0)
          : Number(mask);
        return `${IPV6_MAP.address(a)}/${96 + bits}`;
      },
    );
  },
  /** An IPv6 twin back as its IPv4 address (anything else as it is). */
  back(v6: string): string {
    const m = /^2001:db8::([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
    if (!m) return v6;
    const n = Number.parseInt(m[1]!, 16) * 65536 + Number.parseInt(m[2]!, 16);
    return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
  },
};
