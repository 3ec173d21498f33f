// Finding the lists: real-world configs, where the plugins read them, and refused files.
import { describe, expect, it } from "vitest";
import { windowsSnapshotSchema } from "../protocol.js";
import { DEFAULT_WANT, FIXTURES, fixture, winBridge } from "../test-fixtures/cni.js";
import { MAX_CNI_CONFIG_CHARS, parseCniConfig } from "./parse.js";
import { rewriteExceptionLists } from "./rewrite.js";

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
      input: winBridge({ Type: "OutBoundNAT", ExceptionList: ["10.0.0.0/8"] }).replace(
        '/8"]',
        '/8",]',
      ),
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
      input: winBridge({ Type: "OutBoundNAT", ExceptionList: "10.0.0.0/8" }),
      want: "/policies/0/value/ExceptionList must be a list of CIDR strings, got string",
    },
    {
      desc: "an entry is a number",
      input: winBridge({ Type: "OutBoundNAT", ExceptionList: ["10.0.0.0/8", 10] }),
      want: "/policies/0/value/ExceptionList/1 is number, expected a CIDR string",
    },
    {
      desc: "Settings is a list",
      input: winBridge({ Type: "OutBoundNAT", Settings: [] }),
      want: "/policies/0/value/Settings must be an object, got array",
    },
    {
      desc: "Exceptions is an object",
      input: winBridge({ Type: "OutBoundNAT", Settings: { Exceptions: {} } }),
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
      input: winBridge({ Type: "OutBoundNAT", type: "ROUTE" }),
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
});
