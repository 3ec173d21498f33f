// The link settings the chart passes (issue 17): the reporters' liveness timings, a CA bundle for
// a privately signed `wss://` proxy, the dashboard's heartbeat, its Event write rate and its
// connections to the API server; each read back through the apps' own parsers.
//
// Run: npx vitest run --project integration charts/ipmasq-dashboard/test/reporter-link.test.ts
import { parseEnv } from "@masq/dashboard/env";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CHART,
  container,
  ensureHelm,
  envOf,
  envValue,
  helm,
  KUBE_VERSION,
  type Manifest,
  render,
  reporterSettings,
  template,
  type Volume,
  valueArgs,
} from "./helpers/render.js";

const NS = "kube-system";
type Liveness = { pingIdle: string; deadAfter: string; hedge: string };
const WSS = "reporter.dashboardURL=wss://ipmasq-reporters.example.com/api/reporter";
const caVolume = (m: Manifest) =>
  (m.reporter.spec.template.spec.volumes as (Volume & { secret?: unknown })[]).find(
    (v) => v.name === "dashboard-ca",
  );
const caMount = (m: Manifest) =>
  container(m.reporter).volumeMounts?.find((v) => v.name === "dashboard-ca");

beforeAll(() => ensureHelm());

describe("reporter link values", () => {
  it("defaults: no CA mounted, the reporter's liveness defaults, heartbeat 10 s, kubelet's Event rate, 32 connections", () => {
    const m = render({ namespace: NS, valuesFiles: [] });
    expect(caVolume(m)).toBeUndefined();
    expect(caMount(m)).toBeUndefined();
    expect(envValue(container(m.reporter), "IPMASQ_DASHBOARD_CA")).toBeUndefined();
    const r = reporterSettings(container(m.reporter));
    expect(r.dashboard?.liveness).toEqual({
      pingIdleMs: 1_500,
      deadAfterMs: 5_000,
      hedgeMs: 1_500,
    });
    expect(r.dashboard?.ca).toBeUndefined();
    const d = parseEnv(envOf(container(m.dashboard)));
    expect(d).toMatchObject({
      IPMASQ_HEARTBEAT_INTERVAL: 10_000,
      IPMASQ_EVENT_QPS: 50,
      IPMASQ_EVENT_BURST: 100,
      IPMASQ_KUBE_API_CONNECTIONS: 32,
    });
  });

  it("passes liveness, heartbeat, Event rate and connections through to both parsers", () => {
    const set = [
      "reporter.liveness.pingIdle=5s",
      "reporter.liveness.deadAfter=15s",
      "reporter.liveness.hedge=2s",
      "dashboard.heartbeatInterval=30s",
      "dashboard.eventQPS=10",
      "dashboard.eventBurst=20",
      "dashboard.kubeAPIConnections=64",
    ];
    const m = render({ namespace: NS, valuesFiles: [], set });
    expect(reporterSettings(container(m.reporter)).dashboard?.liveness).toEqual({
      pingIdleMs: 5_000,
      deadAfterMs: 15_000,
      hedgeMs: 2_000,
    });
    expect(parseEnv(envOf(container(m.dashboard)))).toMatchObject({
      IPMASQ_HEARTBEAT_INTERVAL: 30_000,
      IPMASQ_EVENT_QPS: 10,
      IPMASQ_EVENT_BURST: 20,
      IPMASQ_KUBE_API_CONNECTIONS: 64,
    });
  });

  const capabilities = [
    {
      desc: "default: every known one",
      set: [],
      want: [
        "chain-digests",
        "snapshot-digests",
        "apply-result-snapshot",
        "unheard-heals",
        "digest-history",
      ],
    },
    {
      desc: "whole-part digests only (chain-digests left out)",
      set: ["dashboard.reporterCapabilities=snapshot-digests\\, apply-result-snapshot"],
      want: ["snapshot-digests", "apply-result-snapshot"],
    },
    {
      desc: "none: the previous release's wire",
      set: ["dashboard.reporterCapabilities=none"],
      want: [],
    },
    {
      desc: "one of them",
      set: ["dashboard.reporterCapabilities=apply-result-snapshot"],
      want: ["apply-result-snapshot"],
    },
  ];
  it.each(capabilities)(
    "reporter capabilities, $desc, reach the dashboard's parser",
    ({ set, want }) => {
      const m = render({ namespace: NS, valuesFiles: [], set });
      expect(parseEnv(envOf(container(m.dashboard))).IPMASQ_REPORTER_CAPABILITIES).toEqual(want);
    },
  );

  it("an unknown reporter capability is refused by the schema", () => {
    const r = template({
      namespace: NS,
      valuesFiles: [],
      set: ["dashboard.reporterCapabilities=snapshot-digests-2"],
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("reporterCapabilities");
  });

  it("liveness removed (null in a values file) is refused by the schema, naming it", () => {
    // newuser5: it failed deep in the template ("executing \"ipmasq.durationMs\" at <.>:
    // invalid value; expected string") after a dozen lines of include stack.
    const r = template({ namespace: NS, valuesFiles: [], set: ["reporter.liveness=null"] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("at '/reporter': missing property 'liveness'");
  });

  it("a dead-after not above the ping idle time is refused at render, naming both", () => {
    const set = ["reporter.liveness.pingIdle=5s", "reporter.liveness.deadAfter=5s"];
    const r = template({ namespace: NS, valuesFiles: [], set });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      "reporter.liveness.deadAfter 5s must exceed reporter.liveness.pingIdle 5s by at least 1s",
    );
  });

  // The chart refuses exactly what the reporter would refuse at start (a crash-looping
  // DaemonSet otherwise): each triple is rendered, and the same strings are given to the
  // reporter's own parser in the default render's container.
  let defaults: ReturnType<typeof container> | undefined;
  const reporterAccepts = (l: Liveness) => {
    defaults ??= container(render({ namespace: NS, valuesFiles: [], set: [] }).reporter);
    const names = { pingIdle: "PING_IDLE", deadAfter: "DEAD_AFTER", hedge: "HEDGE" } as const;
    const env = (defaults.env ?? []).map((e) => {
      const key = Object.entries(names).find(([, n]) => e.name === `IPMASQ_LIVENESS_${n}`);
      return key ? { name: e.name, value: l[key[0] as keyof Liveness] } : e;
    });
    try {
      reporterSettings({ ...defaults, env });
      return true;
    } catch {
      return false;
    }
  };
  const agree: { desc: string; input: Liveness; want: boolean }[] = [
    {
      desc: "the defaults",
      input: { pingIdle: "1.5s", deadAfter: "5s", hedge: "1.5s" },
      want: true,
    },
    {
      desc: "ping idle at its floor",
      input: { pingIdle: "500ms", deadAfter: "1.5s", hedge: "1s" },
      want: true,
    },
    {
      desc: "ping idle below its floor",
      input: { pingIdle: "499ms", deadAfter: "5s", hedge: "1s" },
      want: false,
    },
    {
      desc: "ping idle at its ceiling",
      input: { pingIdle: "1m", deadAfter: "1m1s", hedge: "1s" },
      want: true,
    },
    {
      desc: "ping idle above its ceiling",
      input: { pingIdle: "1m0.5s", deadAfter: "2m", hedge: "1s" },
      want: false,
    },
    {
      desc: "dead-after exactly 1 s above",
      input: { pingIdle: "1.5s", deadAfter: "2.5s", hedge: "1s" },
      want: true,
    },
    {
      desc: "dead-after 1 ms short",
      input: { pingIdle: "1.5s", deadAfter: "2499ms", hedge: "1s" },
      want: false,
    },
    {
      desc: "dead-after at its ceiling",
      input: { pingIdle: "10s", deadAfter: "5m", hedge: "1s" },
      want: true,
    },
    {
      desc: "dead-after above its ceiling",
      input: { pingIdle: "10s", deadAfter: "5m0.5s", hedge: "1s" },
      want: false,
    },
    {
      desc: "hedge at its floor",
      input: { pingIdle: "1.5s", deadAfter: "5s", hedge: "0.1s" },
      want: true,
    },
    {
      desc: "hedge below its floor",
      input: { pingIdle: "1.5s", deadAfter: "5s", hedge: "99ms" },
      want: false,
    },
    {
      desc: "hedge above its ceiling",
      input: { pingIdle: "1.5s", deadAfter: "5s", hedge: "1m0.1s" },
      want: false,
    },
    {
      desc: "compound durations",
      input: { pingIdle: "1m30s", deadAfter: "2m0.5s", hedge: "1m" },
      want: false,
    },
    {
      desc: "compound durations within bounds",
      input: { pingIdle: "30s", deadAfter: "1m30s", hedge: "500ms" },
      want: true,
    },
  ];
  for (const c of agree)
    it(`chart and reporter agree: ${c.desc} → ${c.want ? "accepted" : "refused"}`, () => {
      const set = Object.entries(c.input).map(([k, v]) => `reporter.liveness.${k}=${v}`);
      const r = template({ namespace: NS, valuesFiles: [], set });
      expect({ chart: r.status === 0, reporter: reporterAccepts(c.input) }).toEqual({
        chart: c.want,
        reporter: c.want,
      });
    });

  const withCa = [
    {
      desc: "a Secret's ca.crt",
      set: [WSS, "reporter.dashboardCA.secretName=corp-ca"],
      source: { secret: { secretName: "corp-ca", items: [{ key: "ca.crt", path: "ca.crt" }] } },
      file: "/etc/ipmasq/dashboard-ca/ca.crt",
    },
    {
      desc: "a ConfigMap's own key (e.g. a trust-manager bundle)",
      set: [
        WSS,
        "reporter.dashboardCA.configMapName=corp-bundle",
        "reporter.dashboardCA.key=trust.pem",
      ],
      source: {
        configMap: { name: "corp-bundle", items: [{ key: "trust.pem", path: "trust.pem" }] },
      },
      file: "/etc/ipmasq/dashboard-ca/trust.pem",
    },
  ];
  for (const c of withCa)
    it(`mounts ${c.desc} read-only and points the reporter's --dashboard-ca at it`, () => {
      const m = render({ namespace: NS, valuesFiles: [], set: c.set });
      expect(caVolume(m)).toEqual({ name: "dashboard-ca", ...c.source });
      expect(caMount(m)).toEqual({
        name: "dashboard-ca",
        mountPath: "/etc/ipmasq/dashboard-ca",
        readOnly: true,
      });
      expect(envValue(container(m.reporter), "IPMASQ_DASHBOARD_CA")).toBe(c.file);
      // The reporter's own parser reads exactly that file (absent here: no kubelet mounted it).
      expect(() => reporterSettings(container(m.reporter))).toThrow(
        new RegExp(`--dashboard-ca \\(IPMASQ_DASHBOARD_CA\\) ${c.file}: ENOENT`),
      );
      const lint = helm([
        "lint",
        CHART,
        "--strict",
        "--namespace",
        NS,
        "--kube-version",
        KUBE_VERSION,
        ...valueArgs({ valuesFiles: [], set: c.set }),
      ]);
      expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    });

  const windows = [
    "windows.enabled=true",
    "windows.cniConfigPath=C:\\etc\\cni\\net.d\\10-flannel.conf",
    "reporter.dashboardCA.secretName=corp-ca",
    WSS,
  ];
  it("mounts it into the Windows reporters too when their URL is wss://", () => {
    const m = render({ namespace: NS, valuesFiles: [], set: windows });
    const w = m.windowsReporter!;
    const file = "/etc/ipmasq/dashboard-ca/ca.crt";
    expect(envValue(container(w), "IPMASQ_DASHBOARD_CA")).toBe(file);
    expect(container(w).volumeMounts).toContainEqual({
      name: "dashboard-ca",
      mountPath: "/etc/ipmasq/dashboard-ca",
      readOnly: true,
    });
    expect(w.spec.template.spec.volumes).toContainEqual(
      expect.objectContaining({ name: "dashboard-ca", secret: expect.anything() }),
    );
    expect(() => reporterSettings(container(w))).toThrow(/IPMASQ_DASHBOARD_CA\) .*ca\.crt: ENOENT/);
  });

  it("not into Windows reporters pointed at a ws:// URL of their own (they would refuse it)", () => {
    const set = [...windows, "windows.dashboardURL=ws://10.0.0.10:3000/api/reporter"];
    const m = render({ namespace: NS, valuesFiles: [], set });
    const w = m.windowsReporter!;
    expect(envValue(container(w), "IPMASQ_DASHBOARD_CA")).toBeUndefined();
    expect(container(w).volumeMounts?.some((v) => v.name === "dashboard-ca")).toBe(false);
    expect(reporterSettings(container(w)).dashboard?.url).toBe("ws://10.0.0.10:3000/api/reporter");
    expect(envValue(container(m.reporter), "IPMASQ_DASHBOARD_CA")).toBeDefined();
  });

  const refused = [
    {
      desc: "a Secret and a ConfigMap at once",
      set: [WSS, "reporter.dashboardCA.secretName=a", "reporter.dashboardCA.configMapName=b"],
      want: "reporter.dashboardCA: set secretName or configMapName, not both",
    },
    {
      desc: "a CA for a ws:// URL (the default one)",
      set: ["reporter.dashboardCA.secretName=a"],
      want: "reporter.dashboardCA is for a wss:// reporter.dashboardURL",
    },
    {
      desc: "a key that is not a ConfigMap/Secret key",
      set: [WSS, "reporter.dashboardCA.secretName=a", "reporter.dashboardCA.key=../etc/passwd"],
      want: "dashboardCA",
    },
    {
      desc: "a liveness value that is not a duration",
      set: ["reporter.liveness.pingIdle=soon"],
      want: "pingIdle",
    },
  ];
  for (const c of refused)
    it(`refuses ${c.desc}`, () => {
      const r = template({ namespace: NS, valuesFiles: [], set: c.set });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(c.want);
    });
});
