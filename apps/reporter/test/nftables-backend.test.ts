// The native nftables backend inside throwaway network namespaces with real nft (1.0.6 on
// Debian 12): apply, read, drift on a hand edit, heal, failures that keep the previous
// ruleset, change detection, and migration iptables ⇄ nftables without a gap.

import { existsSync, readFileSync } from "node:fs";
import {
  chainLines,
  DEFAULT_FLAGS,
  defaultConfig,
  type MasqConfig,
  NFT_TABLE,
  renderApplyPayload,
} from "@masq/shared";
import { kubeProxyNftScript } from "@masq/testkit/kube-proxy-nft";
import { inNetns, jumpCount, natEdit, natRules, netnsPool } from "@masq/testkit/netns";
import { until } from "@masq/testkit/wait";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { assessObserved } from "../src/assess.js";
import { createIptablesBackend } from "../src/backend/iptables.js";
import { createLinuxNodeBackend } from "../src/backend/linux.js";
import { createNftablesBackend } from "../src/backend/nftables.js";
import type { ChangeSource, Watch } from "../src/backend/types.js";
import { wrapperDir } from "./helpers/wrappers.js";

const pool = netnsPool();
let wrappers = wrapperDir();
const watches: Watch[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.close();
  pool.cleanup();
  wrappers.cleanup();
  wrappers = wrapperDir();
});
afterAll(() => wrappers.cleanup());

const cfg = (cidrs: string[]): MasqConfig => ({ ...defaultConfig(), nonMasqueradeCIDRs: cidrs });
const CHAIN = "IP-MASQ-AGENT";
const TABLE = `inet ${NFT_TABLE}`;

/** The agent set's elements as `nft list set` prints them. */
function elements(ns: string): string[] {
  const out = inNetns(ns, ["nft", "-j", "list", "set", "inet", NFT_TABLE, "nonmasq_v4"]);
  const set = (JSON.parse(out).nftables as { set?: { elem?: unknown[] } }[]).find((o) => o.set);
  return (set?.set?.elem ?? []).map((e) =>
    typeof e === "string"
      ? e
      : `${(e as { prefix: { addr: string; len: number } }).prefix.addr}/${(e as { prefix: { len: number } }).prefix.len}`,
  );
}

function hasTable(ns: string): boolean {
  return inNetns(ns, ["nft", "list", "tables"]).split("\n").includes(`table ${TABLE}`);
}

describe("nftables backend", () => {
  it("applies one table, reads it back, and changes nothing the second time", async () => {
    const ns = pool.add("nft-apply");
    const b = createNftablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    expect(await b.info()).toMatchObject({
      backend: "nftables",
      iptablesVersion: expect.stringMatching(/^nftables v\d/),
    });
    const o = await b.apply(cfg(["10.0.0.0/8", "192.0.2.0/24"]), "cli");
    expect(o).toMatchObject({ ok: true, changed: true, rolledBack: false });
    expect(elements(ns)).toEqual(["10.0.0.0/8", "169.254.0.0/16", "192.0.2.0/24"]);
    const read = await b.read();
    expect(read.nftables.readError).toBeUndefined();
    expect(
      assessObserved(cfg(["10.0.0.0/8", "192.0.2.0/24"]), DEFAULT_FLAGS, read).report.status,
    ).toBe("in-sync");
    expect(await b.apply(cfg(["10.0.0.0/8", "192.0.2.0/24"]), "resync")).toMatchObject({
      ok: true,
      changed: false,
    });
  });

  it("sees a hand edit (nft delete element) as drift, through nft monitor, and heals it", async () => {
    const ns = pool.add("nft-drift");
    const b = createNftablesBackend({ netns: ns, flags: DEFAULT_FLAGS, pollIntervalMs: 3_600_000 });
    expect((await b.apply(defaultConfig(), "cli")).ok).toBe(true);
    await b.read();
    const seen: ChangeSource[] = [];
    const w = b.watch((s) => seen.push(s));
    watches.push(w);
    // The re-read after the start comes once nft monitor has subscribed (watcher.ts): from
    // then on every edit reaches it.
    await until(() => seen.includes("monitor-restart"), 10_000);
    seen.length = 0;
    inNetns(ns, ["nft", "delete", "element", "inet", NFT_TABLE, "nonmasq_v4", "{ 10.0.0.0/8 }"]);
    await until(() => seen.includes("event"), 3_000);
    const report = assessObserved(defaultConfig(), DEFAULT_FLAGS, await b.read()).report;
    expect(report.status).toBe("drifted");
    expect(report.differences).toContainEqual(
      expect.objectContaining({ kind: "missing-cidr", cidr: "10.0.0.0/8" }),
    );
    expect(await b.apply(defaultConfig(), "heal")).toMatchObject({ ok: true, changed: true });
    expect(elements(ns)).toContain("10.0.0.0/8");
  });

  it("keeps the previous table when the kernel rejects the transaction", async () => {
    const ns = pool.add("nft-reject");
    expect(
      (
        await createNftablesBackend({ netns: ns, flags: DEFAULT_FLAGS }).apply(
          cfg(["10.0.0.0/8"]),
          "cli",
        )
      ).ok,
    ).toBe(true);
    // The transaction gets one more command the kernel refuses (a jump to a missing chain).
    const nft = wrappers.script(
      "nft-rejected",
      `case "$*" in *-f*) for a; do f="$a"; done; [ "$1" = "-j" ] || echo "add rule ${TABLE} postrouting jump no_such_chain" >> "$f";; esac\nexec nft "$@"`,
    );
    const b = createNftablesBackend({ netns: ns, flags: DEFAULT_FLAGS, binaries: { nft } });
    const o = await b.apply(cfg(["192.0.2.0/24"]), "desired");
    expect(o.ok).toBe(false);
    expect(o.changed).toBe(false);
    expect(o.error).toMatch(/nothing was changed/);
    expect(elements(ns)).toEqual(["10.0.0.0/8", "169.254.0.0/16"]);
  });

  it("restores the previous table when the read-back differs", async () => {
    const ns = pool.add("nft-verify");
    expect(
      (
        await createNftablesBackend({ netns: ns, flags: DEFAULT_FLAGS }).apply(
          cfg(["10.0.0.0/8"]),
          "cli",
        )
      ).ok,
    ).toBe(true);
    // Someone else removes an element right after the first text transaction commits.
    const once = `${wrappers.dir}/raced`;
    const nft = wrappers.script(
      "nft-racy",
      `if [ "$1" = "-f" ] && [ ! -e ${once} ]; then touch ${once}; nft "$@" && exec nft delete element ${TABLE} nonmasq_v4 '{ 192.0.2.0/24 }'; fi\nexec nft "$@"`,
    );
    const b = createNftablesBackend({ netns: ns, flags: DEFAULT_FLAGS, binaries: { nft } });
    const o = await b.apply(cfg(["192.0.2.0/24"]), "desired");
    expect(o).toMatchObject({ ok: false, rolledBack: true });
    expect(o.error).toMatch(/verification failed .*192\.0\.2\.0\/24.*previous table restored/);
    expect(elements(ns)).toEqual(["10.0.0.0/8", "169.254.0.0/16"]);
  });

  it("says nft is missing and changes nothing", async () => {
    const ns = pool.add("nft-missing");
    const b = createNftablesBackend({
      netns: ns,
      flags: DEFAULT_FLAGS,
      binaries: { nft: "no-such-nft-imr" },
    });
    const o = await b.apply(defaultConfig(), "cli");
    expect(o.ok).toBe(false);
    expect(o.error).toMatch(/no-such-nft-imr is not installed or cannot run/);
    expect(hasTable(ns)).toBe(false);
  });

  it("reads kube-proxy's nat postrouting path, not its service chains", async () => {
    const ns = pool.add("nft-kube");
    inNetns(ns, ["nft", "-f", "-"], kubeProxyNftScript(20));
    const b = createNftablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    expect((await b.apply(defaultConfig(), "cli")).ok).toBe(true);
    const chains = (await b.read()).nftables.ruleset.flatMap((o) =>
      "chain" in o && o.chain ? [`${o.chain.table} ${o.chain.name}`] : [],
    );
    expect(chains.sort()).toEqual([
      `${NFT_TABLE} postrouting`,
      "kube-proxy masquerading",
      "kube-proxy nat-postrouting",
    ]);
  });

  it("reuses kube-proxy's path between events only while nft monitor says it is unchanged", async () => {
    const ns = pool.add("nft-cache");
    inNetns(ns, ["nft", "-f", "-"], kubeProxyNftScript(5));
    // nft, noting every JSON list command it is given.
    const log = `${wrappers.dir}/lists`;
    const nft = wrappers.script(
      "nft-logged",
      `if [ "$1" = "-j" ] && [ "$2" = "-f" ]; then cat "$3" >> ${log}; echo >> ${log}; fi\nexec nft "$@"`,
    );
    const kubeLists = () =>
      existsSync(log)
        ? readFileSync(log, "utf8")
            .split("\n")
            .filter((l) => l.includes('"kube-proxy"')).length
        : 0;
    const b = createNftablesBackend({
      netns: ns,
      flags: DEFAULT_FLAGS,
      pollIntervalMs: 3_600_000,
      binaries: { nft },
    });
    const seen: ChangeSource[] = [];
    watches.push(b.watch((s) => seen.push(s)));
    await until(() => seen.includes("monitor-restart"), 10_000);
    const rules = async () =>
      (await b.read()).nftables.ruleset.filter(
        (o) => "rule" in o && o.rule?.chain === "masquerading",
      ).length;
    expect(await rules()).toBe(3);
    // An apply re-declares the agent's base chain: kube-proxy's path is not listed again.
    const listed = kubeLists();
    seen.length = 0;
    expect((await b.apply(cfg(["10.0.0.0/8"]), "desired")).ok).toBe(true);
    await until(() => seen.includes("event"), 3_000);
    await b.read();
    expect(kubeLists()).toBe(listed);
    // Off the path: kube-proxy's service churn causes no read.
    seen.length = 0;
    inNetns(ns, ["nft", "add", "chain", "ip", "kube-proxy", "service-X-ns9/svc9/tcp/p80"]);
    await new Promise((r) => setTimeout(r, 400));
    expect(seen).toEqual([]);
    // On the path: the next read lists the chain again.
    inNetns(ns, ["nft", "add", "rule", "ip", "kube-proxy", "masquerading", "counter"]);
    await until(() => seen.includes("event"), 3_000);
    expect(await rules()).toBe(4);
    // iptables-nft's side is kept too, until nft monitor shows it changed.
    const ipt = async () =>
      (await b.read()).linux.flatMap((l) => l.chains.flatMap((c) => c.lines ?? []));
    expect(await ipt()).not.toContain("-A POSTROUTING -d 192.0.2.9/32 -j RETURN");
    seen.length = 0;
    natEdit(ns, ["-A", "POSTROUTING", "-d", "192.0.2.9/32", "-j", "RETURN"]);
    await until(() => seen.includes("event"), 3_000);
    expect(await ipt()).toContain("-A POSTROUTING -d 192.0.2.9/32 -j RETURN");
  });
});

/**
 * nft, noting every JSON list command it is given (one line each) in `log`; `lists` are those
 * of reads, `background` those of the poll's recheck (run at nice 10, beside the reads).
 */
function loggedNft(name: string, monitorPrefix = "") {
  const log = `${wrappers.dir}/${name}-lists`;
  const nft = wrappers.script(
    name,
    `if [ "$1" = "-j" ] && [ "$2" = "-f" ]; then l=$(cat "$3"); [ "$(nice)" -ge 10 ] && l="bg $l"; echo "$l" >> ${log}; fi\n${monitorPrefix}exec nft "$@"`,
  );
  const all = () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : []);
  const lists = () => all().filter((l) => !l.startsWith("bg "));
  const background = () => all().filter((l) => l.startsWith("bg "));
  return { nft, lists, background };
}

/** The agent's table as `nft -j list table` prints it (what a whole read holds). */
function listedTable(ns: string): unknown[] {
  const out = inNetns(ns, ["nft", "-j", "list", "table", "inet", NFT_TABLE]);
  return (JSON.parse(out).nftables as object[]).filter((o) => !("metainfo" in o));
}

const ownPart = (ruleset: readonly object[]) =>
  ruleset.filter((o) => {
    const v = Object.values(o)[0] as { family?: string; table?: string; name?: string };
    return v.family === "inet" && (v.table ?? v.name) === NFT_TABLE;
  });

describe("nftables backend, reads while nft monitor follows", () => {
  /** A node with kube-proxy's table and the agent's, followed; the first (whole) read done. */
  async function followed(name: string, pollIntervalMs = 3_600_000, monitorPrefix = "") {
    const ns = pool.add(name);
    inNetns(ns, ["nft", "-f", "-"], kubeProxyNftScript(5));
    const { nft, lists, background } = loggedNft(`nft-${name}`, monitorPrefix);
    const b = createNftablesBackend({
      netns: ns,
      flags: DEFAULT_FLAGS,
      pollIntervalMs,
      binaries: { nft },
    });
    expect((await b.apply(defaultConfig(), "cli")).ok).toBe(true);
    const seen: ChangeSource[] = [];
    watches.push(b.watch((s) => seen.push(s)));
    await until(() => seen.includes("monitor-restart"), 10_000);
    await b.read();
    return { ns, b, seen, lists, background };
  }
  /** Runs `edit`, waits for its event, reads: the list commands that read ran. */
  async function afterEdit(
    f: Awaited<ReturnType<typeof followed>>,
    edit: string[],
  ): Promise<{ listed: string[]; read: Awaited<ReturnType<typeof f.b.read>> }> {
    f.seen.length = 0;
    inNetns(f.ns, edit);
    await until(() => f.seen.includes("event"), 3_000, 10, edit.join(" "));
    const before = f.lists().length;
    const read = await f.b.read();
    return { listed: f.lists().slice(before), read };
  }
  const listOf = (kind: string, name: string) =>
    expect.stringContaining(
      `"${kind}":{"family":"inet","${kind === "table" ? "name" : "table"}":"${NFT_TABLE}"${kind === "table" ? "" : `,"name":"${name}"`}`,
    );

  it("lists only the set or chain a hand edit touched, and holds what nft list table prints", async () => {
    const f = await followed("nft-own");
    const edits: { edit: string[]; lists: unknown }[] = [
      {
        edit: ["nft", "delete", "element", "inet", NFT_TABLE, "nonmasq_v4", "{ 10.0.0.0/8 }"],
        lists: [listOf("set", "nonmasq_v4")],
      },
      {
        edit: ["nft", "add", "element", "inet", NFT_TABLE, "nonmasq_v4", "{ 198.51.100.0/24 }"],
        lists: [listOf("set", "nonmasq_v4")],
      },
      {
        edit: [
          "nft",
          "insert",
          "rule",
          "inet",
          NFT_TABLE,
          "postrouting",
          "ip",
          "daddr",
          "203.0.113.0/24",
          "masquerade",
        ],
        lists: [listOf("chain", "postrouting")],
      },
      {
        edit: ["nft", "add", "chain", "inet", NFT_TABLE, "extra"],
        lists: [listOf("table", "")],
      },
    ];
    for (const e of edits) {
      const { listed, read } = await afterEdit(f, e.edit);
      expect(listed, e.edit.join(" ")).toEqual(e.lists);
      expect(ownPart(read.nftables.ruleset as object[])).toEqual(listedTable(f.ns));
    }
    const report = assessObserved(defaultConfig(), DEFAULT_FLAGS, await f.b.read()).report;
    expect(report.differences).toContainEqual(
      expect.objectContaining({ kind: "missing-cidr", cidr: "10.0.0.0/8" }),
    );
  });

  it("sees a hand edit of kube-proxy's masquerading chain that changes what is masqueraded", async () => {
    const f = await followed("nft-kube-edit");
    const status = (o: Awaited<ReturnType<typeof f.b.read>>) =>
      assessObserved(defaultConfig(), DEFAULT_FLAGS, o).report;
    expect(status(await f.b.read()).status).toBe("in-sync");
    // kube-proxy's `mark and 0x4000 == 0 return` gone: it masquerades every packet.
    const handle = /mark & 0x00004000 == 0x00000000 return # handle (\d+)/.exec(
      inNetns(f.ns, ["nft", "-a", "list", "chain", "ip", "kube-proxy", "masquerading"]),
    )?.[1];
    expect(handle).toBeDefined();
    const edit = ["nft", "delete", "rule", "ip", "kube-proxy", "masquerading", "handle", handle!];
    const { listed, read } = await afterEdit(f, edit);
    expect(listed).toContainEqual(expect.stringContaining('"name":"masquerading"'));
    const report = status(read);
    expect(report.status).not.toBe("in-sync");
    expect(JSON.stringify(report.differences)).toMatch(/kube-proxy/);
  });

  it("keeps following after a poll: kube-proxy's path walked again beside the reads, then one read", async () => {
    // A poll long enough that the next one does not come before the edit's read.
    const f = await followed("nft-poll", 2_500);
    await until(() => f.seen.includes("poll"), 6_000);
    expect(f.background()).toContainEqual(expect.stringContaining('"name":"masquerading"'));
    const before = f.lists().length;
    await f.b.read();
    expect(f.lists().slice(before)).toEqual([listOf("table", "")]);
    const edit = ["nft", "add", "element", "inet", NFT_TABLE, "nonmasq_v4", "{ 198.51.100.0/24 }"];
    const { listed } = await afterEdit(f, edit);
    expect(listed).toEqual([listOf("set", "nonmasq_v4")]);
  });

  it("finds at the poll what the monitor did not say", async () => {
    // A monitor that runs but reports nothing (as one that missed an event).
    const f = await followed(
      "nft-mute",
      800,
      `if [ "$1" = "monitor" ]; then exec sleep 3600; fi\n`,
    );
    const rules = (o: Awaited<ReturnType<typeof f.b.read>>) =>
      o.nftables.ruleset.filter((x) => "rule" in x && x.rule?.chain === "masquerading").length;
    expect(rules(await f.b.read())).toBe(3);
    inNetns(f.ns, ["nft", "add", "rule", "ip", "kube-proxy", "masquerading", "counter"]);
    f.seen.length = 0;
    await until(() => f.seen.includes("poll"), 3_000);
    expect(rules(await f.b.read())).toBe(4);
  });

  it("reads everything again when nft monitor says it lost events", async () => {
    const f = await followed(
      "nft-lost",
      3_600_000,
      `if [ "$1" = "monitor" ]; then { sleep 1.5; echo "# ERROR: We lost some netlink events!"; } & fi\n`,
    );
    f.seen.length = 0;
    await until(() => f.seen.includes("event"), 5_000);
    const before = f.lists().length;
    await f.b.read();
    const listed = f.lists().slice(before);
    expect(listed).toContainEqual(listOf("table", ""));
    expect(listed.some((l) => l.includes('"kube-proxy"'))).toBe(true);
  });
});

describe("migration", () => {
  it("iptables chain → nftables table, then back, never both disagreeing", async () => {
    const ns = pool.add("migrate");
    const ipt = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    expect((await ipt.apply(cfg(["10.0.0.0/8"]), "cli")).ok).toBe(true);
    // To nftables with a new config: the chain is brought to it first, then retired.
    const toNft = await createLinuxNodeBackend({
      backend: "nftables",
      netns: ns,
      flags: DEFAULT_FLAGS,
    });
    const o = await toNft.backend.apply(cfg(["10.0.0.0/8", "192.0.2.0/24"]), "cli");
    expect(o).toMatchObject({ ok: true, changed: true });
    expect(natRules(ns, CHAIN)).toEqual([]);
    expect(jumpCount(ns)).toBe(0);
    expect(elements(ns)).toEqual(["10.0.0.0/8", "169.254.0.0/16", "192.0.2.0/24"]);
    // And back to iptables: the chain is verified before the table goes.
    const toIpt = await createLinuxNodeBackend({
      backend: "iptables",
      netns: ns,
      flags: DEFAULT_FLAGS,
    });
    const back = await toIpt.backend.apply(cfg(["10.0.0.0/8"]), "cli");
    expect(back).toMatchObject({ ok: true, changed: true });
    expect(hasTable(ns)).toBe(false);
    expect(jumpCount(ns)).toBe(1);
    expect(natRules(ns, CHAIN).filter((l) => l.endsWith("-j RETURN"))).toHaveLength(2);
  });

  it("adopts upstream's iptables chain: apply --backend nftables leaves only the table", async () => {
    const ns = pool.add("adopt");
    // Upstream's own payload, with its jump, for a different config than the desired one.
    inNetns(
      ns,
      ["iptables-restore", "--noflush", "-w"],
      renderApplyPayload(cfg(["10.0.0.0/8"]), DEFAULT_FLAGS, "ipv4", {
        addJump: true,
        deleteJumps: [],
      }),
    );
    const b = createNftablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    const before = await b.read();
    expect(before.linux.some((s) => chainLines(s, CHAIN) != null)).toBe(true);
    expect(
      assessObserved(defaultConfig(), DEFAULT_FLAGS, before).report.differences,
    ).toContainEqual(expect.objectContaining({ kind: "backend-conflict" }));
    expect(await b.apply(defaultConfig(), "startup")).toMatchObject({ ok: true, changed: true });
    const after = await b.read();
    expect(after.linux.some((s) => chainLines(s, CHAIN) != null)).toBe(false);
    expect(assessObserved(defaultConfig(), DEFAULT_FLAGS, after).report.status).toBe("in-sync");
  });
});
