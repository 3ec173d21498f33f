import { describe, expect, it } from "vitest";
import { defaultConfig, type MasqConfig } from "../config.js";
import { MAX_WINDOWS_EQUIVALENT_CIDRS } from "../limits.js";
import { desiredExceptions, windowsExceptionList } from "./desired.js";
import { windowsDrift } from "./drift.js";

const cfg = (over: Partial<MasqConfig>): MasqConfig => ({ ...defaultConfig(), ...over });

const tests: { desc: string; input: MasqConfig; want: string[] }[] = [
  {
    desc: "without exceptions: the config's list as before",
    input: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8", "192.168.0.0/16"] }),
    want: ["10.0.0.0/8", "192.168.0.0/16", "169.254.0.0/16"],
  },
  {
    desc: "the example: 10.0.0.0/8 minus 10.100.10.0/24, link-local kept",
    input: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.100.10.0/24"] }),
    want: [
      "10.0.0.0/10",
      "10.64.0.0/11",
      "10.96.0.0/14",
      "10.100.0.0/21",
      "10.100.8.0/23",
      "10.100.11.0/24",
      "10.100.12.0/22",
      "10.100.16.0/20",
      "10.100.32.0/19",
      "10.100.64.0/18",
      "10.100.128.0/17",
      "10.101.0.0/16",
      "10.102.0.0/15",
      "10.104.0.0/13",
      "10.112.0.0/12",
      "10.128.0.0/9",
      "169.254.0.0/16",
    ],
  },
  {
    desc: "three levels: the innermost range comes back",
    input: cfg({
      nonMasqueradeCIDRs: ["10.0.0.0/8", "10.100.10.0/24"],
      masqueradeCIDRs: ["10.100.0.0/16"],
      masqLinkLocal: true,
    }),
    want: [
      "10.0.0.0/10",
      "10.64.0.0/11",
      "10.96.0.0/14",
      "10.100.10.0/24",
      "10.101.0.0/16",
      "10.102.0.0/15",
      "10.104.0.0/13",
      "10.112.0.0/12",
      "10.128.0.0/9",
    ],
  },
  {
    desc: "an exception inside link-local",
    input: cfg({ nonMasqueradeCIDRs: [], masqueradeCIDRs: ["169.254.0.0/17"] }),
    want: ["169.254.128.0/17"],
  },
];

describe("windowsExceptionList: the equivalent list, since an ExceptionList cannot say except", () => {
  it.each(tests)("$desc", ({ input, want }) => {
    expect(windowsExceptionList(input)).toEqual({ ok: true, list: want });
  });

  it("the fewest CIDRs: nested and adjacent entries merged before splitting", () => {
    // 120 /32s inside 0.0.0.0/0 and link-local beside it add nothing: 0/0 minus 192.168/16.
    const inner = Array.from({ length: 120 }, (_, i) => `10.0.${i}.1/32`);
    const r = windowsExceptionList(
      cfg({
        nonMasqueradeCIDRs: ["0.0.0.0/0", ...inner],
        masqueradeCIDRs: ["192.168.0.0/16"],
        cidrLimit: 200,
      }),
    );
    expect(r).toEqual({
      ok: true,
      list: [
        "0.0.0.0/1",
        "128.0.0.0/2",
        "192.0.0.0/9",
        "192.128.0.0/11",
        "192.160.0.0/13",
        "192.169.0.0/16",
        "192.170.0.0/15",
        "192.172.0.0/14",
        "192.176.0.0/12",
        "192.192.0.0/10",
        "193.0.0.0/8",
        "194.0.0.0/7",
        "196.0.0.0/6",
        "200.0.0.0/5",
        "208.0.0.0/4",
        "224.0.0.0/3",
      ],
    });
  });

  it("refuses past the bound, with the reason, and drift says the node cannot follow", () => {
    // Every other /24 of 10.0.0.0/15 masqueraded: 256 holes leave 256 kept /24s and more.
    const holes = Array.from({ length: 256 }, (_, i) => `10.${(i * 2) >> 8}.${(i * 2) & 255}.0/24`);
    const config = cfg({
      nonMasqueradeCIDRs: ["10.0.0.0/8"],
      masqueradeCIDRs: holes,
      cidrLimit: 300,
    });
    const r = windowsExceptionList(config);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(`more than ${MAX_WINDOWS_EQUIVALENT_CIDRS} CIDRs`);
    expect(desiredExceptions(config)).toEqual([]);
    const d = windowsDrift(config, [
      { pointer: "/plugins/0", form: "OutBoundNAT", exceptions: ["10.0.0.0/8"] },
    ]);
    expect(d.map((x) => `${x.severity} ${x.kind}`)).toEqual(["critical exception-missing"]);
  });

  it("drift against the equivalent list: in sync when the node has it", () => {
    const config = tests[2]!.input;
    const list = windowsExceptionList(config);
    if (!list.ok) throw new Error("unexpected refusal");
    expect(
      windowsDrift(config, [{ pointer: "/plugins/0", form: "OutBoundNAT", exceptions: list.list }]),
    ).toEqual([]);
  });
});
