// Shared by the CNI tests (src/cni/*.test.ts): the real-world configs of @masq/testkit/cni-configs with what
// they hold, and helpers to compare a rewritten file with the original byte by byte.
import { cniConfigText } from "@masq/testkit/cni-configs";
import { findNodeAtLocation, parseTree } from "jsonc-parser";
import { parseCniConfig } from "../cni/parse.js";
import { defaultConfig, type MasqConfig } from "../config.js";
import type { ExceptionListSnapshot } from "../protocol.js";

/** A config of @masq/testkit/cni-configs, as text. */
export function fixture(name: string): string {
  return cniConfigText(name);
}

export function toPath(pointer: string): (string | number)[] {
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** [start, end) of each pointer's value in `text` (BOM included in the offsets). */
export function ranges(text: string, pointers: readonly string[]): [number, number][] {
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
export function outside(text: string, rs: readonly [number, number][]): string[] {
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
export function blanked(text: string, pointers: readonly string[]): string {
  const doc = JSON.parse(text.replace(/^\uFEFF/, ""));
  for (const p of pointers) {
    const path = toPath(p);
    let o = doc;
    for (const seg of path.slice(0, -1)) o = o[seg];
    o[path[path.length - 1]!] = "<list>";
  }
  return JSON.stringify(doc);
}

export function listText(text: string, pointer: string): string {
  const [[s, e]] = ranges(text, [pointer]) as [[number, number]];
  return text.slice(s, e);
}

export function mustParse(text: string) {
  const r = parseCniConfig(text);
  if (!r.ok) throw new Error(r.error);
  return r;
}

export function config(over: Partial<MasqConfig> = {}): MasqConfig {
  return { ...defaultConfig(), ...over };
}

export const DEFAULT_WANT = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"];

/** A one-line win-bridge config with one EndpointPolicy of body `value`. */
export function winBridge(value: unknown): string {
  return JSON.stringify({ type: "win-bridge", policies: [{ name: "EndpointPolicy", value }] });
}

// ---------------------------------------------------------------------------------------------
// Fixtures: real-world CNI configs (shape, key casing, layout and line endings imitated from the
// project named; addresses are ours).

export interface FixtureCase {
  desc: string;
  input: string;
  want: { plugin: string; lists: ExceptionListSnapshot[]; eol: "\n" | "\r\n" };
}

export const FIXTURES: FixtureCase[] = [
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

export const IPV6_ONLY_POINTERS = new Set(["/AdditionalArgs/1/Value/Settings/Exceptions"]);
