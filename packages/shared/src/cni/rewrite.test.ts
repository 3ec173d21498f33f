// The format-keeping rewrite: round trips on real-world configs, the layout of a new list, and
// the rewrites it refuses.
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../config.js";
import { driftReport } from "../drift.js";
import {
  blanked,
  DEFAULT_WANT,
  FIXTURES,
  fixture,
  IPV6_ONLY_POINTERS,
  listText,
  mustParse,
  outside,
  ranges,
  winBridge,
} from "../test-fixtures/cni.js";
import { windowsDrift } from "./drift.js";
import { rewriteExceptionLists } from "./rewrite.js";

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
// Refused rewrites

describe("bad files are refused and not rewritten", () => {
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
      input: winBridge({ Type: "OutBoundNAT", Settings: { Destinations: ["10.0.0.5"] } }),
      want: "the CNI config has no OutBoundNAT exception list to rewrite",
    },
    {
      desc: "only an IPv6 list",
      input: winBridge({ Type: "OutBoundNAT", ExceptionList: ["fd00::/8"] }),
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
