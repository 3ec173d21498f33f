// The dashboard with real `ipmasq run` reporters in network namespaces and real iptables:
// the behaviour targets as behaviour (their timings are in bench/targets.bench.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { parseCniConfig } from "@masq/shared";
import { cniConfigText } from "@masq/testkit/cni-configs";
import { deleteReturnRule, inNetns, jumpCount } from "@masq/testkit/netns";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { type NetnsFleet, startNetnsFleet } from "./helpers/netns-fleet.js";
import { saveYaml } from "./helpers/server.js";

let fleet: NetnsFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

const allInSync = async (f: NetnsFleet) => {
  const s = await f.statuses();
  return (
    f.nodes.every((n) => s[n.name] === (n.mode === "enforce" ? "in-sync" : s[n.name])) &&
    Object.keys(s).length === f.nodes.length
  );
};
const hasRule = (f: NetnsFleet, node: NetnsFleet["nodes"][number], cidr: string) =>
  f.rules(node).some((l) => l.includes(`-d ${cidr} `) && l.endsWith("-j RETURN"));

describe("dashboard + real reporters on real iptables", () => {
  it("applies saves everywhere, shows hand edits as drift, heals on resync, survives a restart", async () => {
    fleet = await startNetnsFleet([{ tag: "a" }, { tag: "b" }]);
    const f = fleet;
    const [a, b] = f.nodes as [NetnsFleet["nodes"][number], NetnsFleet["nodes"][number]];
    await until(() => allInSync(f), 20_000, 50, "first sync");
    for (const n of f.nodes) {
      expect(hasRule(f, n, "10.0.0.0/8")).toBe(true);
      expect(jumpCount(n.netns)).toBe(1);
    }

    const put = await saveYaml(f.server, "nonMasqueradeCIDRs: [10.0.0.0/8, 100.64.0.0/10]\n");
    expect(put.status).toBe(200);
    await until(
      () => f.nodes.every((n) => hasRule(f, n, "100.64.0.0/10")),
      10_000,
      50,
      "rollout on iptables",
    );
    await until(
      async () => (await f.server.api("/api/nodes")).body.summary.rollout?.finishedAt,
      10_000,
      50,
      "rollout acknowledged",
    );
    expect((await f.server.api("/api/nodes")).body.summary.rollout).toMatchObject({
      revision: put.body.revision,
      done: 2,
      failed: 0,
    });

    deleteReturnRule(a.netns, "100.64.0.0/10");
    await until(async () => (await f.status(a.name)) === "drifted", 10_000, 50, "drift shown");
    expect(await f.differences(a.name)).toContain("missing-cidr 100.64.0.0/10");
    expect(await f.status(b.name)).toBe("in-sync");

    expect((await f.server.api(`/api/nodes/${a.name}/resync`, { method: "POST" })).status).toBe(
      202,
    );
    await until(
      async () => hasRule(f, a, "100.64.0.0/10") && (await f.status(a.name)) === "in-sync",
      10_000,
      50,
      "healed",
    );
    expect(jumpCount(a.netns)).toBe(1);

    const resourceVersion = (await f.server.api("/api/config")).body.resourceVersion;
    await f.stopDashboard();
    // Dashboard away: nodes keep enforcing their last applied config.
    inNetns(b.netns, ["iptables", "-w", "-t", "nat", "-F", "IP-MASQ-AGENT"]);
    await f.startDashboard();
    await until(() => allInSync(f), 20_000, 50, "back in sync after restart");
    expect(hasRule(f, b, "100.64.0.0/10")).toBe(true);
    // Changed back by the revision sent at reconnect: the drift is told, never silently healed.
    const rev = put.body.revision;
    const told = (
      (await f.server.api(`/api/nodes/${b.name}`)).body.events as {
        kind: string;
        message: string;
      }[]
    ).filter((e) => e.kind === "drift");
    expect(told.map((e) => e.message)).toEqual([
      expect.stringMatching(
        `^its rules had drifted from revision ${rev} while the dashboard did not hear from it; re-applying revision ${rev} at reconnect changed them back; what differed`,
      ),
    ]);
    const aTold = (await f.server.api(`/api/nodes/${a.name}`)).body.events as { kind: string }[];
    expect(aTold.filter((e) => e.kind === "drift")).toEqual([]);
    const after = (await f.server.api("/api/config")).body;
    expect(after.resourceVersion).toBe(resourceVersion);
    expect(after.config.nonMasqueradeCIDRs).toEqual(["10.0.0.0/8", "100.64.0.0/10"]);
  });

  it("never writes in observe mode and never pushes an invalid config", async () => {
    const seeded =
      "*nat\n:IP-MASQ-AGENT - [0:0]\n-A IP-MASQ-AGENT -d 10.0.0.0/8 -j RETURN\n-A IP-MASQ-AGENT -j MASQUERADE\n-A POSTROUTING -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT\nCOMMIT\n";
    fleet = await startNetnsFleet([
      {
        tag: "obs",
        mode: "observe",
        before: (ns) => inNetns(ns, ["iptables-restore", "--noflush", "-w"], seeded),
      },
      { tag: "enf" },
    ]);
    const f = fleet;
    const [obs, enf] = f.nodes as [NetnsFleet["nodes"][number], NetnsFleet["nodes"][number]];
    await until(
      async () =>
        (await f.status(obs.name)) === "drifted" && (await f.status(enf.name)) === "in-sync",
      20_000,
      50,
      "observe node drifted",
    );
    const observed = f.rules(obs).join("\n");

    const cfg = (await f.server.api("/api/config")).body;
    const bad = await f.server.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.1/8]\n", resourceVersion: cfg.resourceVersion },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].message).toContain("did you mean 10.0.0.0/8");
    const ok = await f.server.api("/api/config", {
      method: "PUT",
      body: {
        yaml: "nonMasqueradeCIDRs: [10.0.0.0/8, 192.168.0.0/16]\n",
        resourceVersion: cfg.resourceVersion,
      },
    });
    expect(ok.status).toBe(200);
    await until(
      () => hasRule(f, enf, "192.168.0.0/16") && !hasRule(f, enf, "172.16.0.0/12"),
      10_000,
      50,
      "enforce node applied",
    );
    expect(f.rules(obs).join("\n")).toBe(observed);
    const resync = await f.server.api(`/api/nodes/${obs.name}/resync`, { method: "POST" });
    expect(resync.status).toBe(409);
    expect(f.rules(obs).join("\n")).toBe(observed);
  });
});

describe("a Windows node next to Linux nodes", () => {
  const cni = cniConfigText("flannel-win-overlay.conflist");
  const exceptions = (path: string) => {
    const r = parseCniConfig(readFileSync(path, "utf8"));
    return r.ok ? r.lists[0]?.exceptions : undefined;
  };

  it("shows its ExceptionList drift, applies saves and heals on resync", async () => {
    fleet = await startNetnsFleet([{ tag: "lin" }, { tag: "win", windowsCni: cni }]);
    const f = fleet;
    const win = f.nodes[1]!;
    await until(() => allInSync(f), 20_000, 50, "both in sync");
    const detail = (await f.server.api(`/api/nodes/${win.name}`)).body;
    expect(detail.node.os).toBe("windows");
    expect(exceptions(win.cni!)).toEqual([
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
      "169.254.0.0/16",
    ]);

    const put = await saveYaml(f.server, "nonMasqueradeCIDRs: [10.0.0.0/8, 100.64.0.0/10]\n");
    expect(put.status).toBe(200);
    await until(
      () => exceptions(win.cni!)?.includes("100.64.0.0/10"),
      10_000,
      50,
      "windows list updated",
    );
    await until(() => allInSync(f), 10_000, 50, "in sync after the save");

    // Someone edits the CNI config by hand: the list loses a CIDR.
    writeFileSync(
      win.cni!,
      readFileSync(win.cni!, "utf8")
        .replace('"100.64.0.0/10", ', "")
        .replace(', "100.64.0.0/10"', ""),
    );
    await until(
      async () => (await f.status(win.name)) === "drifted",
      10_000,
      50,
      "windows drift shown",
    );
    const drifted = (await f.server.api(`/api/nodes/${win.name}`)).body;
    expect(
      drifted.view.report.differences.map(
        (d: { kind: string; scope: string }) => `${d.scope}:${d.kind}`,
      ),
    ).toContain("windows:missing-cidr");

    expect((await f.server.api(`/api/nodes/${win.name}/resync`, { method: "POST" })).status).toBe(
      202,
    );
    await until(
      async () =>
        exceptions(win.cni!)?.includes("100.64.0.0/10") && (await f.status(win.name)) === "in-sync",
      10_000,
      50,
      "windows healed",
    );
  });
});
