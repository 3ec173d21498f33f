import { describe, expect, it } from "vitest";
import { fleetFlags, parseEnv } from "./env.js";

describe("parseEnv", () => {
  it("applies the documented defaults", () => {
    const e = parseEnv({});
    expect(e).toMatchObject({
      PORT: 3000,
      HOST: "0.0.0.0",
      IPMASQ_STORE: "file",
      IPMASQ_DATA_DIR: "./.data",
      IPMASQ_CONFIGMAP: "kube-system/ip-masq-agent",
      IPMASQ_REPORTER_AUDIENCE: "ipmasq-dashboard",
      IPMASQ_OBSERVE_RESYNC: false,
      IPMASQ_UPSTREAM_AGENT_SELECTOR: "k8s-app=ip-masq-agent",
      IPMASQ_UPSTREAM_AGENT_NAMESPACE: "kube-system",
    });
    expect(e.IPMASQ_ADMIN_TOKEN).toBeUndefined();
    expect(fleetFlags(e)).toMatchObject({
      masqChain: "IP-MASQ-AGENT",
      enableIPv6: false,
      noMasqAllReservedRanges: false,
    });
  });

  it("reads booleans and flags, and rejects bad values with the variable name", () => {
    const e = parseEnv({
      IPMASQ_ENABLE_IPV6: "true",
      IPMASQ_NOMASQ_ALL_RESERVED_RANGES: "1",
      IPMASQ_MASQ_CHAIN: "MY-CHAIN",
      IPMASQ_ADMIN_TOKEN: "  ",
    });
    expect(fleetFlags(e)).toMatchObject({
      masqChain: "MY-CHAIN",
      enableIPv6: true,
      noMasqAllReservedRanges: true,
    });
    expect(e.IPMASQ_ADMIN_TOKEN).toBeUndefined();
    expect(() => parseEnv({ IPMASQ_STORE: "etcd" })).toThrow(/IPMASQ_STORE/);
    expect(() => parseEnv({ IPMASQ_OBSERVE_RESYNC: "maybe" })).toThrow(/IPMASQ_OBSERVE_RESYNC/);
    expect(() => fleetFlags(parseEnv({ IPMASQ_MASQ_CHAIN: "bad chain" }))).toThrow();
  });

  const bounds = [
    { desc: "heartbeat: the default", input: {}, want: { IPMASQ_HEARTBEAT_INTERVAL: 10_000 } },
    {
      desc: "heartbeat: a Go duration",
      input: { IPMASQ_HEARTBEAT_INTERVAL: "30s" },
      want: { IPMASQ_HEARTBEAT_INTERVAL: 30_000 },
    },
    {
      desc: "heartbeat: below what reporters accept",
      input: { IPMASQ_HEARTBEAT_INTERVAL: "500ms" },
      want: /IPMASQ_HEARTBEAT_INTERVAL.*at least 1s/,
    },
    {
      desc: "heartbeat: above what reporters accept",
      input: { IPMASQ_HEARTBEAT_INTERVAL: "10m" },
      want: /IPMASQ_HEARTBEAT_INTERVAL.*at most 5m/,
    },
    {
      desc: "Events and connections: kubelet's defaults, a cap of 32",
      input: {},
      want: { IPMASQ_EVENT_QPS: 50, IPMASQ_EVENT_BURST: 100, IPMASQ_KUBE_API_CONNECTIONS: 32 },
    },
    {
      desc: "Events and connections: set",
      input: { IPMASQ_EVENT_QPS: "5", IPMASQ_EVENT_BURST: "10", IPMASQ_KUBE_API_CONNECTIONS: "64" },
      want: { IPMASQ_EVENT_QPS: 5, IPMASQ_EVENT_BURST: 10, IPMASQ_KUBE_API_CONNECTIONS: 64 },
    },
    { desc: "Event rate 0", input: { IPMASQ_EVENT_QPS: "0" }, want: /IPMASQ_EVENT_QPS/ },
    { desc: "Event burst 2.5", input: { IPMASQ_EVENT_BURST: "2.5" }, want: /IPMASQ_EVENT_BURST/ },
    {
      desc: "capabilities: unset grants every known one",
      input: {},
      want: {
        IPMASQ_REPORTER_CAPABILITIES: [
          "chain-digests",
          "snapshot-digests",
          "apply-result-snapshot",
          "unheard-heals",
          "digest-history",
        ],
      },
    },
    {
      desc: "capabilities: none (the previous release's wire)",
      input: { IPMASQ_REPORTER_CAPABILITIES: "none" },
      want: { IPMASQ_REPORTER_CAPABILITIES: [] },
    },
    {
      desc: "capabilities: any case, as the handshake header is read",
      input: { IPMASQ_REPORTER_CAPABILITIES: "Snapshot-Digests" },
      want: { IPMASQ_REPORTER_CAPABILITIES: ["snapshot-digests"] },
    },
    {
      desc: "capabilities: one of them, spaces and repeats tolerated",
      input: { IPMASQ_REPORTER_CAPABILITIES: " snapshot-digests , snapshot-digests" },
      want: { IPMASQ_REPORTER_CAPABILITIES: ["snapshot-digests"] },
    },
    {
      desc: "capabilities: an unknown name is refused, naming it and the known ones",
      input: { IPMASQ_REPORTER_CAPABILITIES: "snapshot-digests,digests-2" },
      want: /IPMASQ_REPORTER_CAPABILITIES.*unknown capability "digests-2"; known: chain-digests, snapshot-digests, apply-result-snapshot, unheard-heals, digest-history, or "none"/,
    },
    {
      desc: "no connection at all",
      input: { IPMASQ_KUBE_API_CONNECTIONS: "0" },
      want: /IPMASQ_KUBE_API_CONNECTIONS/,
    },
  ];
  const blanks: { desc: string; input: Record<string, string>; want: object | RegExp }[] = [
    {
      desc: "empty means unset: the defaults, not 0, false or an empty name",
      input: {
        PORT: "",
        HOST: "",
        IPMASQ_STORE: " ",
        IPMASQ_DATA_DIR: "",
        IPMASQ_CONFIGMAP: "",
        IPMASQ_MASQ_CHAIN: "",
        IPMASQ_UI: "",
        IPMASQ_KUBE_EVENTS: "",
        IPMASQ_EVENT_QPS: "",
        IPMASQ_OFFLINE_NODE_TTL: "",
        IPMASQ_HEARTBEAT_INTERVAL: "",
        IPMASQ_REPORTER_AUDIENCE: "",
        IPMASQ_LOG_LEVEL: "",
      },
      want: {
        PORT: 3000,
        HOST: "0.0.0.0",
        IPMASQ_STORE: "file",
        IPMASQ_DATA_DIR: "./.data",
        IPMASQ_CONFIGMAP: "kube-system/ip-masq-agent",
        IPMASQ_MASQ_CHAIN: "IP-MASQ-AGENT",
        IPMASQ_UI: true,
        IPMASQ_KUBE_EVENTS: true,
        IPMASQ_EVENT_QPS: 50,
        IPMASQ_OFFLINE_NODE_TTL: 24 * 3600_000,
        IPMASQ_HEARTBEAT_INTERVAL: 10_000,
        IPMASQ_REPORTER_AUDIENCE: "ipmasq-dashboard",
        IPMASQ_LOG_LEVEL: "info",
      },
    },
    {
      desc: "an empty source prefix keeps its meaning: no further sources",
      input: { IPMASQ_SOURCE_PREFIX: "" },
      want: { IPMASQ_SOURCE_PREFIX: "" },
    },
    { desc: "a port in hex", input: { PORT: "0x50" }, want: /PORT/ },
    { desc: "a port out of range", input: { PORT: "70000" }, want: /PORT/ },
    { desc: "a port with words", input: { PORT: "80 80" }, want: /PORT/ },
    {
      desc: "a burst in exponent form",
      input: { IPMASQ_EVENT_BURST: "1e2" },
      want: /IPMASQ_EVENT_BURST/,
    },
    {
      desc: "a rate that is not a number",
      input: { IPMASQ_EVENT_QPS: "fast" },
      want: /IPMASQ_EVENT_QPS/,
    },
  ];
  it.each([...bounds, ...blanks])("$desc", ({ input, want }) => {
    if (want instanceof RegExp) expect(() => parseEnv(input)).toThrow(want);
    else expect(parseEnv(input)).toMatchObject(want);
  });

  const strategies: { desc: string; input: string | undefined; want: unknown }[] = [
    { desc: "unset: all at once", input: undefined, want: { kind: "all-at-once" } },
    { desc: "the word", input: "all-at-once", want: { kind: "all-at-once" } },
    {
      desc: "waves as JSON (the chart's toJson)",
      input: '{"kind":"waves","canary":{"count":1},"waves":[50,100],"pause":{"kind":"manual"}}',
      want: { kind: "waves", canary: { count: 1 }, waves: [50, 100], pause: { kind: "manual" } },
    },
    { desc: "not JSON", input: "waves please", want: /IPMASQ_ROLLOUT_STRATEGY.*not JSON/ },
    {
      desc: "waves that stop short of 100%",
      input: '{"kind":"waves","canary":{"count":1},"waves":[50],"pause":{"kind":"manual"}}',
      want: /IPMASQ_ROLLOUT_STRATEGY.*100%/,
    },
  ];
  it.each(strategies)("IPMASQ_ROLLOUT_STRATEGY: $desc", ({ input, want }) => {
    if (want instanceof RegExp)
      expect(() => parseEnv({ IPMASQ_ROLLOUT_STRATEGY: input })).toThrow(want);
    else expect(parseEnv({ IPMASQ_ROLLOUT_STRATEGY: input }).IPMASQ_ROLLOUT_STRATEGY).toEqual(want);
  });
});
