import { readFileSync } from "node:fs";
import fc from "fast-check";
import { findNodeAtLocation, parseTree } from "jsonc-parser";
import { describe, expect, it } from "vitest";
import {
  desiredExceptions,
  MAX_CNI_CONFIG_CHARS,
  parseCniConfig,
  readExceptionEntry,
  rewriteExceptionLists,
  windowsDrift,
} from "./cni.js";
import { defaultConfig, type MasqConfig } from "./config.js";
import { driftReport } from "./drift.js";
import { type ExceptionListSnapshot, windowsSnapshotSchema } from "./protocol.js";

// ---------------------------------------------------------------------------------------------
// Helpers

function fixture(name: string): string {
  return readFileSync(new URL(`./test-fixtures/cni/${name}`, import.meta.url), "utf8");
}

function toPath(pointer: string): (string | number)[] {
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** [start, end) of each pointer's value in `text` (BOM included in the offsets). */
function ranges(text: string, pointers: readonly string[]): [number, number][] {
  const bom = text.startsWith("\uFEFF") ? 1 : 0;
  const root = parseTree(text.slice(bom))!;
  return pointers
    .map((p): [number, number] => {
      const n = findNodeAtLocation(root, toPath(p));
      if (!n) throw new Error(`no node at ${p}`);
      return [n.offset + bom, n.offset + bom + n.length];
    })
    .sort((a, b) => a[0] - b[0]);
}

/** The text outside the given ranges, as segments. */
function outside(text: string, rs: readonly [number, number][]): string[] {
  const out: string[] = [];
  let at = 0;
  for (const [s, e] of rs) {
    out.push(text.slice(at, s));
    at = e;
  }
  out.push(text.slice(at));
  return out;
}

/** JSON of the document with every list replaced by a marker (key order kept by stringify). */
function blanked(text: string, pointers: readonly string[]): string {
  const doc = JSON.parse(text.replace(/^\uFEFF/, ""));
  for (const p of pointers) {
    const path = toPath(p);
    let o = doc;
    for (const seg of path.slice(0, -1)) o = o[seg];
    o[path[path.length - 1]!] = "<list>";
  }
  return JSON.stringify(doc);
}

function listText(text: string, pointer: string): string {
  const [[s, e]] = ranges(text, [pointer]) as [[number, number]];
  return text.slice(s, e);
}

function mustParse(text: string) {
  const r = parseCniConfig(text);
  if (!r.ok) throw new Error(r.error);
  return r;
}

function config(over: Partial<MasqConfig> = {}): MasqConfig {
  return { ...defaultConfig(), ...over };
}

const DEFAULT_WANT = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"];

// ---------------------------------------------------------------------------------------------
// Fixtures: real-world CNI configs (shape, key casing, layout and line endings imitated from the
// project named; addresses are ours).

interface FixtureCase {
  desc: string;
  input: string;
  want: { plugin: string; lists: ExceptionListSnapshot[]; eol: "\n" | "\r\n" };
}

const FIXTURES: FixtureCase[] = [
  {
    desc: "win-bridge, HNS v1 EndpointPolicy (containernetworking/plugins win-bridge sample-v1.conf)",
    input: "win-bridge-v1.conf",
    want: {
      plugin: "win-bridge",
      eol: "\n",
      lists: [
        {
          pointer: "/policies/0/value/ExceptionList",
          form: "EndpointPolicy",
          exceptions: ["10.244.0.0/16", "10.96.0.0/12", "192.168.10.0/24"],
        },
      ],
    },
  },
  {
    desc: "flannel delegating to win-bridge, HNS v2 Settings.Exceptions (containernetworking/plugins win-bridge sample-v2.conf)",
    input: "flannel-win-bridge-v2.conf",
    want: {
      plugin: "flannel/win-bridge",
      eol: "\n",
      lists: [
        {
          pointer: "/delegate/policies/0/value/Settings/Exceptions",
          form: "OutBoundNAT",
          exceptions: ["10.244.0.0/16", "10.96.0.0/12", "172.20.64.0/20"],
        },
      ],
    },
  },
  {
    desc: "win-overlay, apiVersion 2 (containernetworking/plugins win-overlay sample-v2.conf, OVN hybrid overlay)",
    input: "win-overlay-v2.conf",
    want: {
      plugin: "win-overlay",
      eol: "\n",
      lists: [
        {
          pointer: "/policies/0/value/Settings/Exceptions",
          form: "OutBoundNAT",
          exceptions: ["172.30.0.0/16"],
        },
      ],
    },
  },
  {
    desc: "win-overlay with lower-case keys and settings.exceptionList; an SDNRoute exceptionList is not a NAT list (OVN-Kubernetes Windows node template)",
    input: "ovn-kubernetes-win-overlay.conf",
    want: {
      plugin: "win-overlay",
      eol: "\n",
      lists: [
        {
          pointer: "/policies/0/value/settings/exceptionList",
          form: "OutBoundNAT",
          exceptions: ["10.128.0.0/14"],
        },
      ],
    },
  },
  {
    desc: 'flannel conflist delegating to win-overlay, tabs, "Policies"/"Name"/"Value" (rke2 Windows flannel template)',
    input: "flannel-win-overlay.conflist",
    want: {
      plugin: "flannel/win-overlay",
      eol: "\n",
      lists: [
        {
          pointer: "/plugins/0/delegate/Policies/0/Value/Settings/Exceptions",
          form: "OutBoundNAT",
          exceptions: ["10.42.0.0/16", "10.43.0.0/16"],
        },
      ],
    },
  },
  {
    desc: "flannel/win-overlay written by Windows PowerShell ConvertTo-Json, CRLF (sig-windows-tools / Microsoft SDN helper Update-CNIConfig)",
    input: "flannel-overlay-powershell.conf",
    want: {
      plugin: "flannel/win-overlay",
      eol: "\r\n",
      lists: [
        {
          pointer: "/delegate/policies/0/Value/ExceptionList",
          form: "EndpointPolicy",
          exceptions: ["10.244.0.0/16", "10.96.0.0/12"],
        },
      ],
    },
  },
  {
    desc: "flannel/win-overlay with one-line HNS v1 policies (sig-windows-tools start script)",
    input: "flannel-win-overlay-inline.conf",
    want: {
      plugin: "flannel/win-overlay",
      eol: "\n",
      lists: [
        {
          pointer: "/delegate/Policies/0/Value/ExceptionList",
          form: "EndpointPolicy",
          exceptions: ["10.244.0.0/16", "10.96.0.0/12"],
        },
      ],
    },
  },
  {
    desc: "flannel/win-bridge with bare HNS v2 policies in HcnPolicyArgs (Microsoft SDN / sig-windows-tools l2bridge helper)",
    input: "flannel-l2bridge-hcnpolicyargs.conf",
    want: {
      plugin: "flannel/win-bridge",
      eol: "\n",
      lists: [
        {
          pointer: "/delegate/HcnPolicyArgs/0/Settings/Exceptions",
          form: "OutBoundNAT",
          exceptions: ["10.244.0.0/16", "10.96.0.0/12", "10.127.130.0/24"],
        },
      ],
    },
  },
  {
    desc: "Calico for Windows conflist (calico/node Windows install, 10-calico.conflist)",
    input: "calico-windows.conflist",
    want: {
      plugin: "calico",
      eol: "\n",
      lists: [
        {
          pointer: "/plugins/0/policies/0/Value/ExceptionList",
          form: "EndpointPolicy",
          exceptions: ["10.96.0.0/12"],
        },
      ],
    },
  },
  {
    desc: "AKS azure-vnet conflist with AdditionalArgs (Azure/azure-container-networking cni/azure-windows*.conflist)",
    input: "azure-vnet.conflist",
    want: {
      plugin: "azure-vnet",
      eol: "\n",
      lists: [
        {
          pointer: "/plugins/0/AdditionalArgs/0/Value/ExceptionList",
          form: "EndpointPolicy",
          exceptions: ["10.224.0.0/16", "10.0.0.0/8"],
        },
      ],
    },
  },
  {
    desc: "containerd with sdnbridge, AdditionalArgs + Settings.Exceptions (microsoft/windows-container-networking example l2bridge.conf)",
    input: "sdnbridge-containerd.conf",
    want: {
      plugin: "sdnbridge",
      eol: "\n",
      lists: [
        {
          pointer: "/AdditionalArgs/0/Value/Settings/Exceptions",
          form: "OutBoundNAT",
          exceptions: ["10.244.0.0/16", "10.96.0.0/12", "10.0.2.0/24"],
        },
      ],
    },
  },
  {
    desc: "dual-stack sdnbridge: one IPv4 and one IPv6 OutBoundNAT policy (microsoft/windows-container-networking l2bridge-dualstack template)",
    input: "sdnbridge-dualstack.conf",
    want: {
      plugin: "sdnbridge",
      eol: "\n",
      lists: [
        {
          pointer: "/AdditionalArgs/0/Value/Settings/Exceptions",
          form: "OutBoundNAT",
          exceptions: ["192.168.40.0/24", "192.168.40.5/32"],
        },
        {
          pointer: "/AdditionalArgs/1/Value/Settings/Exceptions",
          form: "OutBoundNAT",
          exceptions: ["fd00:40::/120", "fd00:40::5/128"],
        },
      ],
    },
  },
  {
    desc: "win-overlay with ipMasq and no policy (containernetworking/plugins win-overlay README)",
    input: "win-overlay-no-policy.conf",
    want: { plugin: "win-overlay", eol: "\n", lists: [] },
  },
];

const IPV6_ONLY_POINTERS = new Set(["/AdditionalArgs/1/Value/Settings/Exceptions"]);

describe("parseCniConfig on real-world configs", () => {
  for (const { desc, input, want } of FIXTURES) {
    it(desc, () => {
      const text = fixture(input);
      expect(text.includes("\r\n")).toBe(want.eol === "\r\n");
      expect(parseCniConfig(text)).toEqual({ ok: true, plugin: want.plugin, lists: want.lists });
      // What the reporter sends is a valid protocol snapshot.
      expect(
        windowsSnapshotSchema.safeParse({
          path: `C:\\etc\\cni\\net.d\\${input}`,
          lists: want.lists,
        }).success,
      ).toBe(true);
    });
  }
});

describe("rewriteExceptionLists round trips on real-world configs", () => {
  for (const { desc, input, want } of FIXTURES.filter((f) => f.want.lists.length > 0)) {
    it(desc, () => {
      const text = fixture(input);
      const pointers = want.lists.map((l) => l.pointer);
      const r = rewriteExceptionLists(text, DEFAULT_WANT);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.changed).toBe(true);

      // The new lists read back; IPv6-only lists are untouched.
      const back = mustParse(r.text);
      expect(back.plugin).toBe(want.plugin);
      expect(back.lists).toEqual(
        want.lists.map((l) =>
          IPV6_ONLY_POINTERS.has(l.pointer) ? l : { ...l, exceptions: DEFAULT_WANT },
        ),
      );

      // Byte level: everything outside the list arrays is identical.
      expect(outside(r.text, ranges(r.text, pointers))).toEqual(
        outside(text, ranges(text, pointers)),
      );
      // Structure: same document (keys, their order, values) once the lists are blanked.
      expect(blanked(r.text, pointers)).toBe(blanked(text, pointers));
      // Line endings stay those of the file.
      if (want.eol === "\r\n") expect(r.text.replace(/\r\n/g, "")).not.toMatch(/\n/);
      else expect(r.text).not.toMatch(/\r/);

      // Idempotent: the same list again changes nothing.
      expect(rewriteExceptionLists(r.text, DEFAULT_WANT)).toEqual({
        ok: true,
        text: r.text,
        changed: false,
      });
      // The list a file already has changes nothing either.
      const own = want.lists.find((l) => !IPV6_ONLY_POINTERS.has(l.pointer))!.exceptions;
      if (want.lists.filter((l) => !IPV6_ONLY_POINTERS.has(l.pointer)).length === 1) {
        expect(rewriteExceptionLists(text, own)).toEqual({ ok: true, text, changed: false });
      }
      // And the node is then in sync with the default config.
      const report = driftReport(windowsDrift(defaultConfig(), back.lists));
      expect(report.status).toBe("in-sync");
      expect(report.differences.filter((d) => d.kind !== "ipv6-ignored")).toEqual([]);
    });
  }

  it("keeps a byte order mark and changes only the list", () => {
    const text = `\uFEFF${fixture("win-bridge-v1.conf")}`;
    const p = ["/policies/0/value/ExceptionList"];
    expect(mustParse(text).lists[0]!.exceptions).toEqual([
      "10.244.0.0/16",
      "10.96.0.0/12",
      "192.168.10.0/24",
    ]);
    const r = rewriteExceptionLists(text, DEFAULT_WANT);
    if (!r.ok) throw new Error(r.error);
    expect(r.text.startsWith("\uFEFF{")).toBe(true);
    expect(outside(r.text, ranges(r.text, p))).toEqual(outside(text, ranges(text, p)));
  });
});

// ---------------------------------------------------------------------------------------------
// Layout of the rewritten list

describe("rewriteExceptionLists follows the layout of the list it replaces", () => {
  const two = ["10.0.0.0/8", "172.16.0.0/12"];
  const cases: {
    desc: string;
    input: string;
    pointer: string;
    exceptions?: string[];
    want: string;
  }[] = [
    {
      desc: "one per line, 2-space file",
      input: fixture("win-bridge-v1.conf"),
      pointer: "/policies/0/value/ExceptionList",
      want: '[\n          "10.0.0.0/8",\n          "172.16.0.0/12"\n        ]',
    },
    {
      desc: "PowerShell alignment and CRLF",
      input: fixture("flannel-overlay-powershell.conf"),
      pointer: "/delegate/policies/0/Value/ExceptionList",
      want: `[\r\n${" ".repeat(78)}"10.0.0.0/8",\r\n${" ".repeat(78)}"172.16.0.0/12"\r\n${" ".repeat(74)}]`,
    },
    {
      desc: "several per line, tab-indented",
      input: fixture("flannel-win-overlay.conflist"),
      pointer: "/plugins/0/delegate/Policies/0/Value/Settings/Exceptions",
      want: '[\n\t\t\t\t\t  "10.0.0.0/8", "172.16.0.0/12"\n\t\t\t\t\t]',
    },
    {
      desc: "one line with inner spaces",
      input: fixture("flannel-win-overlay-inline.conf"),
      pointer: "/delegate/Policies/0/Value/ExceptionList",
      want: '[ "10.0.0.0/8", "172.16.0.0/12" ]',
    },
    {
      desc: "one line with a single entry",
      input: fixture("calico-windows.conflist"),
      pointer: "/plugins/0/policies/0/Value/ExceptionList",
      want: '["10.0.0.0/8", "172.16.0.0/12"]',
    },
    {
      desc: "a single entry on its own line",
      input: fixture("win-overlay-v2.conf"),
      pointer: "/policies/0/value/Settings/Exceptions",
      want: '[\n            "10.0.0.0/8",\n            "172.16.0.0/12"\n          ]',
    },
    {
      desc: "entries at the indentation of the bracket line (OVN template)",
      input: fixture("ovn-kubernetes-win-overlay.conf"),
      pointer: "/policies/0/value/settings/exceptionList",
      want: '[\n                "10.0.0.0/8",\n                "172.16.0.0/12"\n                ]',
    },
    {
      desc: "minified file, empty list",
      input:
        '{"type":"win-bridge","policies":[{"name":"EndpointPolicy","value":{"Type":"OutBoundNAT","ExceptionList":[]}}]}',
      pointer: "/policies/0/value/ExceptionList",
      want: '["10.0.0.0/8","172.16.0.0/12"]',
    },
    {
      desc: "empty list in a 4-space file",
      input: JSON.stringify(
        {
          type: "win-bridge",
          policies: [{ name: "EndpointPolicy", value: { Type: "OutBoundNAT", ExceptionList: [] } }],
        },
        null,
        4,
      ),
      pointer: "/policies/0/value/ExceptionList",
      want: `[\n${" ".repeat(20)}"10.0.0.0/8",\n${" ".repeat(20)}"172.16.0.0/12"\n${" ".repeat(16)}]`,
    },
    {
      desc: "null list in a tab-indented CRLF file",
      input: JSON.stringify(
        {
          type: "win-bridge",
          policies: [
            { name: "EndpointPolicy", value: { Type: "OutBoundNAT", ExceptionList: null } },
          ],
        },
        null,
        "\t",
      ).replace(/\n/g, "\r\n"),
      pointer: "/policies/0/value/ExceptionList",
      want: '[\r\n\t\t\t\t\t"10.0.0.0/8",\r\n\t\t\t\t\t"172.16.0.0/12"\r\n\t\t\t\t]',
    },
    {
      desc: "empty list in a one-line policy of a multi-line file",
      input:
        '{\n  "type": "win-bridge",\n  "policies": [\n    {"name": "EndpointPolicy", "value": {"Type": "OutBoundNAT", "ExceptionList": [ ]}}\n  ]\n}\n',
      pointer: "/policies/0/value/ExceptionList",
      want: '[ "10.0.0.0/8", "172.16.0.0/12" ]',
    },
    {
      desc: "an empty new list",
      input: fixture("win-bridge-v1.conf"),
      pointer: "/policies/0/value/ExceptionList",
      exceptions: [],
      want: "[]",
    },
  ];
  for (const { desc, input, pointer, exceptions, want } of cases) {
    it(desc, () => {
      const r = rewriteExceptionLists(input, exceptions ?? two);
      if (!r.ok) throw new Error(r.error);
      expect(listText(r.text, pointer)).toBe(want);
      expect(outside(r.text, ranges(r.text, [pointer]))).toEqual(
        outside(input, ranges(input, [pointer])),
      );
      expect(mustParse(r.text).lists[0]!.exceptions).toEqual(exceptions ?? two);
      expect(rewriteExceptionLists(r.text, exceptions ?? two)).toEqual({
        ok: true,
        text: r.text,
        changed: false,
      });
    });
  }

  it("keeps the IPv6 entries of a mixed list after the new ones", () => {
    const input = JSON.stringify(
      {
        type: "sdnbridge",
        AdditionalArgs: [
          {
            Name: "EndpointPolicy",
            Value: {
              Type: "OutBoundNAT",
              Settings: { Exceptions: ["fd00::/64", "10.244.0.0/16", "%SERVICE_CIDR%"] },
            },
          },
        ],
      },
      null,
      2,
    );
    const r = rewriteExceptionLists(input, two);
    if (!r.ok) throw new Error(r.error);
    expect(mustParse(r.text).lists[0]!.exceptions).toEqual([...two, "fd00::/64"]);
  });

  it("rewrites every IPv4 list of the file", () => {
    const input = JSON.stringify(
      {
        cniVersion: "0.3.1",
        name: "multi",
        plugins: [
          {
            type: "flannel",
            policies: [
              {
                name: "EndpointPolicy",
                value: { Type: "OutBoundNAT", ExceptionList: ["10.0.0.0/8"] },
              },
            ],
            delegate: {
              type: "win-bridge",
              HcnPolicyArgs: [{ Type: "OutBoundNAT", Settings: { Exceptions: [] } }],
            },
          },
          {
            type: "other",
            AdditionalArgs: [
              {
                Name: "EndpointPolicy",
                Value: {
                  Type: "OutBoundNAT",
                  ExceptionList: ["10.0.0.0/8"],
                  Settings: { Exceptions: ["1.2.3.4"] },
                },
              },
            ],
          },
        ],
      },
      null,
      2,
    );
    const before = mustParse(input).lists.map((l) => l.pointer);
    expect(before).toEqual([
      "/plugins/0/policies/0/value/ExceptionList",
      "/plugins/0/delegate/HcnPolicyArgs/0/Settings/Exceptions",
      "/plugins/1/AdditionalArgs/0/Value/ExceptionList",
      "/plugins/1/AdditionalArgs/0/Value/Settings/Exceptions",
    ]);
    const r = rewriteExceptionLists(input, two);
    if (!r.ok) throw new Error(r.error);
    expect(mustParse(r.text).lists.map((l) => l.exceptions)).toEqual([two, two, two, two]);
    expect(outside(r.text, ranges(r.text, before))).toEqual(outside(input, ranges(input, before)));
    expect(blanked(r.text, before)).toBe(blanked(input, before));
  });
});

// ---------------------------------------------------------------------------------------------
// Where lists are found

describe("parseCniConfig finds lists where the plugins read them", () => {
  const pol = (value: unknown, name = "EndpointPolicy") => ({ name, value });
  const cases: {
    desc: string;
    input: unknown;
    want: { plugin: string; lists: [string, string, string[]][] };
  }[] = [
    {
      desc: "keys in any case, as Go's encoding/json and EqualFold match them",
      input: {
        TYPE: "win-bridge",
        Policies: [
          { NAME: "endpointpolicy", VALUE: { type: "outboundnat", exceptionlist: ["10.0.0.0/8"] } },
        ],
      },
      want: {
        plugin: "win-bridge",
        lists: [["/Policies/0/VALUE/exceptionlist", "EndpointPolicy", ["10.0.0.0/8"]]],
      },
    },
    {
      desc: "policies with another name are ignored (the plugins only use EndpointPolicy)",
      input: {
        type: "win-bridge",
        policies: [pol({ Type: "OutBoundNAT", ExceptionList: ["10.0.0.0/8"] }, "NetworkPolicy")],
      },
      want: { plugin: "win-bridge", lists: [] },
    },
    {
      desc: "an OutBoundNAT policy with only Destinations (loopback DSR) has no exception list",
      input: {
        type: "win-bridge",
        policies: [pol({ Type: "OutBoundNAT", Settings: { Destinations: ["10.0.0.5"] } })],
      },
      want: { plugin: "win-bridge", lists: [] },
    },
    {
      desc: "other policy types with an ExceptionList are not NAT lists",
      input: {
        type: "win-bridge",
        policies: [pol({ Type: "ROUTE", ExceptionList: ["10.0.0.0/8"] })],
      },
      want: { plugin: "win-bridge", lists: [] },
    },
    {
      desc: "a null list reads as empty",
      input: { type: "win-bridge", policies: [pol({ Type: "OutBoundNAT", ExceptionList: null })] },
      want: {
        plugin: "win-bridge",
        lists: [["/policies/0/value/ExceptionList", "EndpointPolicy", []]],
      },
    },
    {
      desc: "null policies, delegate and settings are absent values",
      input: {
        type: "flannel",
        policies: null,
        delegate: null,
        AdditionalArgs: [pol({ Type: "OutBoundNAT", Settings: null })],
      },
      want: { plugin: "flannel", lists: [] },
    },
    {
      desc: "a delegate without a type (flannel picks one)",
      input: {
        type: "flannel",
        delegate: { policies: [pol({ Type: "OutBoundNAT", ExceptionList: [] })] },
      },
      want: {
        plugin: "flannel",
        lists: [["/delegate/policies/0/value/ExceptionList", "EndpointPolicy", []]],
      },
    },
    {
      desc: "a conflist: top-level fields other than plugins are not searched",
      input: {
        name: "x",
        policies: [pol({ Type: "OutBoundNAT", ExceptionList: ["1.1.1.1/32"] })],
        plugins: [{ type: "win-bridge" }, { type: "portmap" }],
      },
      want: { plugin: "win-bridge", lists: [] },
    },
    {
      desc: "entries kept as written, long ones shortened for the snapshot",
      input: {
        type: "win-bridge",
        policies: [
          pol({ Type: "OutBoundNAT", ExceptionList: [" 10.0.0.0/8", "10.1.2.3", "x".repeat(100)] }),
        ],
      },
      want: {
        plugin: "win-bridge",
        lists: [
          [
            "/policies/0/value/ExceptionList",
            "EndpointPolicy",
            [" 10.0.0.0/8", "10.1.2.3", `${"x".repeat(61)}...`],
          ],
        ],
      },
    },
  ];
  for (const { desc, input, want } of cases) {
    it(desc, () => {
      expect(parseCniConfig(JSON.stringify(input, null, 2))).toEqual({
        ok: true,
        plugin: want.plugin,
        lists: want.lists.map(([pointer, form, exceptions]) => ({ pointer, form, exceptions })),
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Bad files: refused, never rewritten

describe("bad files are refused and not rewritten", () => {
  const win = (value: unknown) =>
    JSON.stringify({ type: "win-bridge", policies: [{ name: "EndpointPolicy", value }] });
  const cases: { desc: string; input: string; want: string | RegExp }[] = [
    {
      desc: "missing comma (as once shipped in azure-windows.conflist)",
      input: fixture("azure-vnet-missing-comma.conflist"),
      want: "not valid JSON at line 57, column 17: expected ',' (missing comma?)",
    },
    {
      desc: "truncated file",
      input: fixture("win-bridge-v1.conf").slice(0, 400),
      want: /^not valid JSON at line 2\d, column \d+: /u,
    },
    {
      desc: "truncated in a string",
      input: '{"type": "win-bri',
      want: "not valid JSON at line 1, column 10: unterminated string",
    },
    {
      desc: "trailing comma",
      input: '{"type": "win-bridge", "policies": [],}',
      want: /^not valid JSON at line 1, column 39: expected a property name/,
    },
    {
      desc: "trailing comma in a list",
      input: win({ Type: "OutBoundNAT", ExceptionList: ["10.0.0.0/8"] }).replace('/8"]', '/8",]'),
      want: /expected a value/,
    },
    {
      desc: "comment",
      input: '// cni\n{"type": "win-bridge"}',
      want: "not valid JSON at line 1, column 1: comments are not allowed in JSON",
    },
    {
      desc: "single quotes",
      input: "{'type': 'win-bridge'}",
      want: /^not valid JSON at line 1, column 2: /,
    },
    { desc: "leading zero", input: '{"type": "win-bridge", "mtu": 01}', want: /^not valid JSON/ },
    {
      desc: "two documents",
      input: '{"type": "win-bridge"}\n{}',
      want: "not valid JSON at line 2, column 1: unexpected text after the end of the JSON value",
    },
    { desc: "empty file", input: "", want: "the file is empty" },
    { desc: "blank file", input: " \r\n\t", want: "the file is empty" },
    { desc: "too large", input: " ".repeat(MAX_CNI_CONFIG_CHARS + 1), want: /larger than/ },
    {
      desc: "top-level array",
      input: '[{"type": "win-bridge"}]',
      want: "the top level must be a JSON object, got array",
    },
    {
      desc: "top-level string",
      input: '"win-bridge"',
      want: "the top level must be a JSON object, got string",
    },
    {
      desc: "no plugin type",
      input: '{"name": "cbr0", "policies": []}',
      want: 'no plugin "type" at the top level',
    },
    { desc: "type is a number", input: '{"type": 1}', want: "/type must be a string, got number" },
    { desc: "type is empty", input: '{"type": " "}', want: "/type is empty" },
    {
      desc: "plugins is an object",
      input: '{"plugins": {"type": "calico"}}',
      want: "/plugins must be a list of plugins, got object",
    },
    {
      desc: "plugins is empty",
      input: '{"name": "x", "plugins": []}',
      want: "/plugins is empty: no plugin type",
    },
    {
      desc: "a plugin without type",
      input: '{"plugins": [{"type": "calico"}, {"capabilities": {}}]}',
      want: 'no plugin "type" at /plugins/1',
    },
    {
      desc: "a plugin that is not an object",
      input: '{"plugins": ["calico"]}',
      want: "/plugins/0 must be an object, got string",
    },
    {
      desc: "delegate is a string",
      input: '{"type": "flannel", "delegate": "win-overlay"}',
      want: "/delegate must be an object, got string",
    },
    {
      desc: "policies is an object",
      input: '{"type": "win-bridge", "policies": {}}',
      want: "/policies must be a list of policies, got object",
    },
    {
      desc: "a policy that is not an object",
      input: '{"type": "win-bridge", "policies": ["EndpointPolicy"]}',
      want: "/policies/0 must be an object, got string",
    },
    {
      desc: "a policy name that is not a string",
      input: '{"type": "win-bridge", "policies": [{"name": 1}]}',
      want: "/policies/0/name must be a string, got number",
    },
    {
      desc: "ExceptionList is a string",
      input: win({ Type: "OutBoundNAT", ExceptionList: "10.0.0.0/8" }),
      want: "/policies/0/value/ExceptionList must be a list of CIDR strings, got string",
    },
    {
      desc: "an entry is a number",
      input: win({ Type: "OutBoundNAT", ExceptionList: ["10.0.0.0/8", 10] }),
      want: "/policies/0/value/ExceptionList/1 is number, expected a CIDR string",
    },
    {
      desc: "Settings is a list",
      input: win({ Type: "OutBoundNAT", Settings: [] }),
      want: "/policies/0/value/Settings must be an object, got array",
    },
    {
      desc: "Exceptions is an object",
      input: win({ Type: "OutBoundNAT", Settings: { Exceptions: {} } }),
      want: "/policies/0/value/Settings/Exceptions must be a list of CIDR strings, got object",
    },
    {
      desc: "policies and Policies",
      input: '{"type": "win-bridge", "policies": [], "Policies": []}',
      want: 'the top level has the key "policies", "Policies" more than once (differing only in case or repeated); which one applies is ambiguous',
    },
    {
      desc: "ExceptionList twice",
      input:
        '{"type": "win-bridge", "policies": [{"name": "EndpointPolicy", "value": {"Type": "OutBoundNAT", "ExceptionList": [], "ExceptionList": ["10.0.0.0/8"]}}]}',
      want: /^\/policies\/0\/value has the key "ExceptionList", "ExceptionList" more than once/,
    },
    {
      desc: "Type and type",
      input: win({ Type: "OutBoundNAT", type: "ROUTE" }),
      want: /has the key "Type", "type" more than once/,
    },
  ];
  for (const { desc, input, want } of cases) {
    it(desc, () => {
      const p = parseCniConfig(input);
      expect(p.ok).toBe(false);
      if (p.ok) return;
      if (typeof want === "string") expect(p.error).toBe(want);
      else expect(p.error).toMatch(want);
      const r = rewriteExceptionLists(input, DEFAULT_WANT);
      expect(r).toEqual({ ok: false, error: p.error });
      expect("text" in r).toBe(false);
    });
  }

  it("absurd nesting neither throws nor hangs", () => {
    for (const depth of [1000, 100_000]) {
      const text = `{"type": "x", "a": ${"[".repeat(depth)}${"]".repeat(depth)}}`;
      expect(typeof parseCniConfig(text).ok).toBe("boolean");
      expect(typeof rewriteExceptionLists(text, DEFAULT_WANT).ok).toBe("boolean");
    }
  });

  const refusedRewrites: {
    desc: string;
    input: string;
    exceptions?: unknown[];
    want: string | RegExp;
  }[] = [
    {
      desc: "no OutBoundNAT policy",
      input: fixture("win-overlay-no-policy.conf"),
      want: "the CNI config has no OutBoundNAT exception list to rewrite",
    },
    {
      desc: "OutBoundNAT without a list",
      input: win({ Type: "OutBoundNAT", Settings: { Destinations: ["10.0.0.5"] } }),
      want: "the CNI config has no OutBoundNAT exception list to rewrite",
    },
    {
      desc: "only an IPv6 list",
      input: win({ Type: "OutBoundNAT", ExceptionList: ["fd00::/8"] }),
      want: "the CNI config has no IPv4 OutBoundNAT exception list to rewrite (only IPv6 ones)",
    },
    {
      desc: "a misaligned CIDR to write",
      input: fixture("win-bridge-v1.conf"),
      exceptions: ["10.0.0.1/8"],
      want: 'refusing to write "10.0.0.1/8": not an IP address or an aligned CIDR',
    },
    {
      desc: "a placeholder to write",
      input: fixture("win-bridge-v1.conf"),
      exceptions: ["%CLUSTER_CIDR%"],
      want: /refusing to write "%CLUSTER_CIDR%"/,
    },
    {
      desc: "an empty string to write",
      input: fixture("win-bridge-v1.conf"),
      exceptions: [""],
      want: /refusing to write ""/,
    },
    {
      desc: "a number to write",
      input: fixture("win-bridge-v1.conf"),
      exceptions: [10],
      want: /refusing to write 10/,
    },
    {
      desc: "not a list",
      input: fixture("win-bridge-v1.conf"),
      exceptions: "10.0.0.0/8" as unknown as unknown[],
      want: "the exceptions must be a list of CIDR strings",
    },
  ];
  for (const { desc, input, exceptions, want } of refusedRewrites) {
    it(`rewrite refuses: ${desc}`, () => {
      const r = rewriteExceptionLists(input, (exceptions ?? DEFAULT_WANT) as string[]);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      if (typeof want === "string") expect(r.error).toBe(want);
      else expect(r.error).toMatch(want);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Desired list and drift

describe("desiredExceptions", () => {
  const cases: { desc: string; input: Partial<MasqConfig>; want: string[] }[] = [
    { desc: "defaults: RFC 1918 then link-local", input: {}, want: DEFAULT_WANT },
    {
      desc: "masqLinkLocal drops link-local",
      input: { masqLinkLocal: true },
      want: DEFAULT_WANT.slice(0, 3),
    },
    {
      desc: "order kept, IPv6 left out",
      input: { nonMasqueradeCIDRs: ["192.168.0.0/16", "fd00::/8", "10.0.0.0/8"] },
      want: ["192.168.0.0/16", "10.0.0.0/8", "169.254.0.0/16"],
    },
    {
      desc: "canonical and without duplicates",
      input: { nonMasqueradeCIDRs: ["10.0.0.0/08", "10.0.0.0/8"] },
      want: ["10.0.0.0/8", "169.254.0.0/16"],
    },
    {
      desc: "link-local already listed",
      input: { nonMasqueradeCIDRs: ["169.254.0.0/16", "10.0.0.0/8"] },
      want: ["169.254.0.0/16", "10.0.0.0/8"],
    },
    {
      desc: "invalid entries skipped",
      input: { nonMasqueradeCIDRs: ["bogus", "10.0.0.1/8", "100.64.0.0/10"] },
      want: ["100.64.0.0/10", "169.254.0.0/16"],
    },
    { desc: "nothing at all", input: { nonMasqueradeCIDRs: [], masqLinkLocal: true }, want: [] },
  ];
  for (const { desc, input, want } of cases) {
    it(desc, () => expect(desiredExceptions(config(input))).toEqual(want));
  }
});

describe("readExceptionEntry (lenient, as HNS reads entries)", () => {
  const cases: {
    desc: string;
    input: string;
    want: { canonical: string; exact: boolean; note?: string } | null;
  }[] = [
    { desc: "canonical CIDR", input: "10.0.0.0/8", want: { canonical: "10.0.0.0/8", exact: true } },
    {
      desc: "plain IPv4",
      input: "10.1.2.3",
      want: { canonical: "10.1.2.3/32", exact: false, note: "plain IP" },
    },
    {
      desc: "plain IPv6",
      input: "fd00::5",
      want: { canonical: "fd00::5/128", exact: false, note: "plain IP" },
    },
    {
      desc: "host bits set",
      input: "10.137.198.27/23",
      want: { canonical: "10.137.198.0/23", exact: false, note: "not aligned" },
    },
    {
      desc: "leading zero in the prefix",
      input: "10.0.0.0/08",
      want: { canonical: "10.0.0.0/8", exact: false, note: "not canonical" },
    },
    {
      desc: "spaces",
      input: " 10.0.0.0/8 ",
      want: { canonical: "10.0.0.0/8", exact: false, note: "not canonical" },
    },
    {
      desc: "long IPv6",
      input: "fd00:0:0:0:0:0:0:0/8",
      want: { canonical: "fd00::/8", exact: false, note: "not canonical" },
    },
    { desc: "template placeholder", input: "%CLUSTER_CIDR%", want: null },
    { desc: "placeholder with prefix", input: "{{LOCAL_ENDPOINT}}/32", want: null },
    { desc: "empty", input: "", want: null },
    { desc: "prefix too long", input: "10.0.0.0/33", want: null },
  ];
  for (const { desc, input, want } of cases) {
    it(desc, () => {
      const r = readExceptionEntry(input);
      if (want === null) expect(r).toEqual({ ok: false, text: input });
      else {
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect({
          canonical: r.cidr.canonical,
          exact: r.exact,
          ...(r.note ? { note: r.note } : {}),
        }).toEqual(want);
      }
    });
  }
});

describe("windowsDrift", () => {
  const one = (
    exceptions: string[],
    pointer = "/policies/0/value/ExceptionList",
  ): ExceptionListSnapshot => ({ pointer, form: "EndpointPolicy", exceptions });
  const cases: {
    desc: string;
    config?: Partial<MasqConfig>;
    input: ExceptionListSnapshot[];
    want: {
      kind: string;
      severity: string;
      cidr?: string;
      message?: string | RegExp;
      rule?: string;
    }[];
    status: "in-sync" | "drifted";
    summary?: string;
  }[] = [
    {
      desc: "in sync",
      input: [one(DEFAULT_WANT)],
      want: [],
      status: "in-sync",
      summary: "in sync",
    },
    {
      desc: "other order is cosmetic",
      input: [one([...DEFAULT_WANT].reverse())],
      want: [
        {
          kind: "cosmetic",
          severity: "info",
          message: "same behaviour, different text (other order)",
        },
      ],
      status: "in-sync",
      summary: "in sync (cosmetic differences)",
    },
    {
      desc: "duplicates are cosmetic",
      input: [one([...DEFAULT_WANT, "10.0.0.0/8"])],
      want: [{ kind: "cosmetic", severity: "info", message: /duplicates/ }],
      status: "in-sync",
    },
    {
      desc: "plain IPs and host bits are read leniently",
      config: { nonMasqueradeCIDRs: ["10.1.2.3/32", "10.8.0.0/16"], masqLinkLocal: true },
      input: [one(["10.1.2.3", "10.8.7.6/16"])],
      want: [
        {
          kind: "cosmetic",
          severity: "info",
          message: "same behaviour, different text (plain IPs, CIDRs with host bits)",
        },
      ],
      status: "in-sync",
    },
    {
      desc: "split or redundant blocks covering the same addresses are cosmetic",
      input: [
        one([
          "10.0.0.0/9",
          "10.128.0.0/9",
          "10.244.0.0/16",
          "172.16.0.0/12",
          "192.168.0.0/16",
          "169.254.0.0/16",
        ]),
      ],
      want: [
        { kind: "cosmetic", severity: "info", message: /other blocks covering the same addresses/ },
      ],
      status: "in-sync",
    },
    {
      desc: "missing CIDR",
      input: [one(["10.0.0.0/8", "172.16.0.0/12", "169.254.0.0/16"])],
      want: [
        {
          kind: "missing-cidr",
          severity: "critical",
          cidr: "192.168.0.0/16",
          message: "192.168.0.0/16 is missing from the OutBoundNAT exceptions",
          rule: "/policies/0/value/ExceptionList",
        },
      ],
      status: "drifted",
      summary: "missing 192.168.0.0/16",
    },
    {
      desc: "a smaller block is not enough",
      input: [one(["10.244.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"])],
      want: [{ kind: "missing-cidr", severity: "critical", cidr: "10.0.0.0/8" }],
      status: "drifted",
    },
    {
      desc: "unexpected CIDR",
      input: [one([...DEFAULT_WANT, "100.64.0.0/10"])],
      want: [
        {
          kind: "unexpected-cidr",
          severity: "critical",
          cidr: "100.64.0.0/10",
          message: "100.64.0.0/10 is an OutBoundNAT exception but not in the config",
        },
      ],
      status: "drifted",
      summary: "extra 100.64.0.0/10",
    },
    {
      desc: "masqLinkLocal: link-local in the list is unexpected",
      config: { masqLinkLocal: true },
      input: [one(DEFAULT_WANT)],
      want: [{ kind: "unexpected-cidr", severity: "critical", cidr: "169.254.0.0/16" }],
      status: "drifted",
    },
    {
      desc: "unreadable entries",
      input: [one([...DEFAULT_WANT, "%SERVICE_CIDR%"])],
      want: [
        {
          kind: "unreadable",
          severity: "warning",
          message: 'exception "%SERVICE_CIDR%" is not an IP address or CIDR',
        },
      ],
      status: "drifted",
      summary: "unreadable rules",
    },
    {
      desc: "no list at all",
      input: [],
      want: [
        {
          kind: "policy-missing",
          severity: "critical",
          message: "the CNI config has no OutBoundNAT exception list",
        },
      ],
      status: "drifted",
      summary: "OutBoundNAT policy missing",
    },
    {
      desc: "only an IPv6 list",
      input: [one(["fd00::/8"])],
      want: [
        {
          kind: "policy-missing",
          severity: "critical",
          message: "the CNI config has no IPv4 OutBoundNAT exception list",
        },
        { kind: "ipv6-ignored", severity: "info", rule: "/policies/0/value/ExceptionList" },
      ],
      status: "drifted",
    },
    {
      desc: "dual stack: the IPv6 list is left as it is",
      input: [one(DEFAULT_WANT, "/a"), one(["fd00::/120", "fd00::5/128"], "/b")],
      want: [
        {
          kind: "ipv6-ignored",
          severity: "info",
          message: "the IPv6 OutBoundNAT list at /b is left as it is",
        },
      ],
      status: "in-sync",
    },
    {
      desc: "IPv6 entries of a mixed list are not compared",
      input: [one([...DEFAULT_WANT, "fd00::/8"])],
      want: [],
      status: "in-sync",
    },
    {
      desc: "IPv6 CIDRs in the config",
      config: { nonMasqueradeCIDRs: [...DEFAULT_WANT.slice(0, 3), "fd00::/8"] },
      input: [one(DEFAULT_WANT)],
      want: [
        {
          kind: "ipv6-ignored",
          severity: "info",
          message: "fd00::/8 is IPv6: OutBoundNAT exceptions are managed for IPv4 only on Windows",
        },
      ],
      status: "in-sync",
    },
    {
      desc: "several lists: one difference per CIDR, naming the lists",
      input: [
        one(["10.0.0.0/8", "169.254.0.0/16"], "/a"),
        one(["10.0.0.0/8", "172.16.0.0/12", "169.254.0.0/16"], "/b"),
      ],
      want: [
        {
          kind: "missing-cidr",
          severity: "critical",
          cidr: "172.16.0.0/12",
          message: "172.16.0.0/12 is missing from the OutBoundNAT exceptions (/a)",
          rule: "/a",
        },
        {
          kind: "missing-cidr",
          severity: "critical",
          cidr: "192.168.0.0/16",
          message: "192.168.0.0/16 is missing from the OutBoundNAT exceptions (/a, /b)",
          rule: "/a, /b",
        },
      ],
      status: "drifted",
      summary: "missing 172.16.0.0/12, 192.168.0.0/16",
    },
    {
      desc: "a real file: win-bridge sample against the defaults",
      input: mustParse(fixture("win-bridge-v1.conf")).lists,
      want: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"].map((cidr) => ({
        kind: "missing-cidr",
        severity: "critical",
        cidr,
      })),
      status: "drifted",
      summary: "missing 10.0.0.0/8, 172.16.0.0/12 +2",
    },
  ];
  for (const { desc, config: over, input, want, status, summary } of cases) {
    it(desc, () => {
      const diffs = windowsDrift(config(over), input);
      expect(diffs.every((d) => d.scope === "windows" && d.message.length > 0)).toBe(true);
      expect(diffs.every((d) => d.severity === "info" || (d.impact ?? "").length > 0)).toBe(true);
      expect(diffs).toHaveLength(want.length);
      want.forEach((w, i) => {
        const d = diffs[i]!;
        expect(d.kind).toBe(w.kind);
        expect(d.severity).toBe(w.severity);
        if (w.cidr) expect(d.cidr).toBe(w.cidr);
        if (w.rule) expect(d.rule).toBe(w.rule);
        if (typeof w.message === "string") expect(d.message).toBe(w.message);
        else if (w.message) expect(d.message).toMatch(w.message);
      });
      const report = driftReport(diffs);
      expect(report.status).toBe(status);
      if (summary) expect(report.summary).toBe(summary);
    });
  }

  it("the missing-policy impact says what happens to traffic", () => {
    const [d] = windowsDrift(defaultConfig(), []);
    expect(d!.impact).toMatch(/not SNAT'd at all/);
    expect(d!.impact).toMatch(/SNAT'd to every destination/);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const FIXTURE_NAMES = FIXTURES.map((f) => f.input).concat("azure-vnet-missing-comma.conflist");

const ipv4Cidr = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 }))
  .map(([v, p]) => {
    const net = p === 0 ? 0 : (v >>> (32 - p)) << (32 - p);
    const n = net >>> 0;
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${p}`;
  });

/** Keys the parser interprets; random extra fields must not collide with them. */
const INTERPRETED = new Set([
  "type",
  "plugins",
  "delegate",
  "policies",
  "additionalargs",
  "hcnpolicyargs",
  "name",
  "value",
  "settings",
  "exceptions",
  "exceptionlist",
]);
const extraFields = fc.dictionary(
  fc
    .string({ minLength: 1, maxLength: 8 })
    .filter((k) => !INTERPRETED.has(k.toLowerCase()) && k !== "__proto__"),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 4 },
);

const generatedConfig = fc.record({
  conflist: fc.boolean(),
  delegate: fc.boolean(),
  arrayKey: fc.constantFrom("policies", "Policies", "AdditionalArgs", "HcnPolicyArgs"),
  shape: fc.constantFrom("v1", "v2", "bare-v2", "bare-v1"),
  before: fc.integer({ min: 0, max: 2 }),
  after: fc.integer({ min: 0, max: 2 }),
  exceptions: fc.array(ipv4Cidr, { maxLength: 6 }),
  extra: extraFields,
  policyExtra: extraFields,
  indent: fc.constantFrom<string | number>(0, 1, 2, 4, "\t"),
  crlf: fc.boolean(),
  finalNewline: fc.boolean(),
});

type Generated = typeof generatedConfig extends fc.Arbitrary<infer T> ? T : never;

function build(g: Generated): { text: string; pointer: string; exceptions: string[] } {
  const route = (i: number) =>
    g.shape.startsWith("bare")
      ? { Type: "SDNRoute", Settings: { DestinationPrefix: `10.${i}.0.0/16`, NeedEncap: true } }
      : {
          Name: "EndpointPolicy",
          Value: { Type: "ROUTE", DestinationPrefix: `10.${i}.0.0/16`, NeedEncap: true },
        };
  let nat: unknown;
  let tail: string;
  if (g.shape === "v1") {
    nat = {
      Name: "EndpointPolicy",
      Value: { ...g.policyExtra, Type: "OutBoundNAT", ExceptionList: g.exceptions },
    };
    tail = "Value/ExceptionList";
  } else if (g.shape === "v2") {
    nat = {
      Name: "EndpointPolicy",
      Value: { Type: "OutBoundNAT", ...g.policyExtra, Settings: { Exceptions: g.exceptions } },
    };
    tail = "Value/Settings/Exceptions";
  } else if (g.shape === "bare-v2") {
    nat = { Type: "OutBoundNAT", Settings: { Exceptions: g.exceptions, ...g.policyExtra } };
    tail = "Settings/Exceptions";
  } else {
    nat = { ...g.policyExtra, Type: "OutBoundNAT", ExceptionList: g.exceptions };
    tail = "ExceptionList";
  }
  const policies = [
    ...Array.from({ length: g.before }, (_, i) => route(i)),
    nat,
    ...Array.from({ length: g.after }, (_, i) => route(i + 10)),
  ];
  const inner: Record<string, unknown> = { type: "win-bridge", ...g.extra, [g.arrayKey]: policies };
  const plugin = g.delegate ? { type: "flannel", delegate: inner } : inner;
  const doc = g.conflist
    ? { cniVersion: "0.3.1", name: "gen", ...g.extra, plugins: [plugin, { type: "portmap" }] }
    : { cniVersion: "0.2.0", name: "gen", ...plugin };
  let pointer = g.conflist ? "/plugins/0" : "";
  if (g.delegate) pointer += "/delegate";
  pointer += `/${g.arrayKey}/${g.before}/${tail}`;
  let text = JSON.stringify(doc, null, g.indent);
  if (g.crlf) text = text.replace(/\n/g, "\r\n");
  if (g.finalNewline) text += g.crlf ? "\r\n" : "\n";
  return { text, pointer, exceptions: g.exceptions };
}

describe("properties", () => {
  it("parseCniConfig and rewriteExceptionLists never throw on arbitrary text", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.json()),
        fc.array(fc.string(), { maxLength: 4 }),
        (text, exceptions) => {
          const p = parseCniConfig(text);
          const r = rewriteExceptionLists(text, exceptions);
          expect(typeof p.ok).toBe("boolean");
          expect(typeof r.ok).toBe("boolean");
        },
      ),
      { numRuns: 500 },
    );
  });

  it("never throw on damaged real files, and a rewrite reads back as written", () => {
    const damage = fc.record({
      name: fc.constantFrom(...FIXTURE_NAMES),
      at: fc.nat(),
      cut: fc.integer({ min: 0, max: 3 }),
      insert: fc.oneof(
        fc.constant(""),
        fc.constantFrom(",", "]", "}", "[", '"', ":", "\\", "/", " ", "\n", "{", "null"),
        fc.string({ maxLength: 3 }),
      ),
    });
    fc.assert(
      fc.property(
        damage,
        fc.array(ipv4Cidr, { maxLength: 4 }),
        ({ name, at, cut, insert }, exceptions) => {
          const original = fixture(name);
          const i = at % (original.length + 1);
          const text = original.slice(0, i) + insert + original.slice(i + cut);
          const p = parseCniConfig(text);
          const r = rewriteExceptionLists(text, exceptions);
          if (!p.ok) expect(r).toEqual({ ok: false, error: p.error });
          if (r.ok && r.changed) {
            const back = mustParse(r.text);
            expect(back.lists.map((l) => l.pointer)).toEqual(
              p.ok ? p.lists.map((l) => l.pointer) : [],
            );
            expect(rewriteExceptionLists(r.text, exceptions)).toEqual({
              ok: true,
              text: r.text,
              changed: false,
            });
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("on generated configs: finds the list, rewrites only it, idempotently", () => {
    fc.assert(
      fc.property(generatedConfig, fc.array(ipv4Cidr, { maxLength: 6 }), (g, next) => {
        const { text, pointer, exceptions } = build(g);
        const p = mustParse(text);
        expect(p.lists).toEqual([
          { pointer, form: g.shape.endsWith("v1") ? "EndpointPolicy" : "OutBoundNAT", exceptions },
        ]);
        const r = rewriteExceptionLists(text, next);
        if (!r.ok) throw new Error(r.error);
        const same = next.length === exceptions.length && next.every((x, i) => x === exceptions[i]);
        expect(r.changed).toBe(!same);
        expect(mustParse(r.text).lists).toEqual([{ ...p.lists[0]!, exceptions: next }]);
        expect(outside(r.text, ranges(r.text, [pointer]))).toEqual(
          outside(text, ranges(text, [pointer])),
        );
        expect(blanked(r.text, [pointer])).toBe(blanked(text, [pointer]));
        if (g.crlf) expect(r.text.replace(/\r\n/g, "")).not.toMatch(/\n/);
        else expect(r.text).not.toMatch(/\r/);
        expect(rewriteExceptionLists(r.text, next)).toEqual({
          ok: true,
          text: r.text,
          changed: false,
        });
        // Drift after the rewrite: in sync with a config whose desired list is `next`.
        const cfg = config({ nonMasqueradeCIDRs: next, masqLinkLocal: true });
        const diffs = windowsDrift(cfg, mustParse(r.text).lists);
        expect(diffs.filter((d) => d.severity !== "info")).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
