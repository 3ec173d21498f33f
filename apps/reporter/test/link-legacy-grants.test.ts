// break8: a reporter that once met a dashboard of the previous release (a rolling upgrade of
// the dashboard) speaks that release's field names for the rest of the link's life. A replica
// of this release it reconnects to grants it apply-result-snapshot: the result carrying its
// snapshot must be a frame that dashboard reads (its decoder renames only the top level).
import {
  APPLY_RESULT_SNAPSHOT,
  createReporterDecoder,
  type FamilySnapshot,
  SNAPSHOT_DIGESTS,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { chainS, postroutingS } from "@masq/testkit/iptables-text";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { createLink } from "../src/link.js";
import { startFakeDashboard } from "./helpers/dashboard.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const linux: FamilySnapshot[] = [
  {
    family: "ipv4",
    backend: "nf_tables",
    chains: [
      { name: "POSTROUTING", lines: postroutingS() },
      { name: "IP-MASQ-AGENT", lines: chainS(["10.0.0.0/8"]) },
    ],
  },
];

describe("a link that met the previous release, then a replica of this one (break8)", () => {
  it("sends frames the new replica's decoder accepts, a result carrying its snapshot too", async () => {
    const old = await startFakeDashboard({ grant: [] });
    const port = old.port;
    const l = createLink({
      url: old.url,
      hello: () => helloFor("node-l"),
      onMessage: () => {},
      backoff: { initialMs: 20, maxMs: 50 },
    });
    cleanups.push(() => l.close());
    await old.waitFor("hello");
    // The previous release refuses this release's names: from now on the link speaks its own.
    old.send({ type: "error", v: 2, reason: 'hello: unrecognized key "appliedRevision"' });
    await until(() => old.raw.length >= 1);
    await new Promise((r) => setTimeout(r, 50));
    await old.close();
    // The replica restarted as this release, on the same address: it grants both.
    const now = await startFakeDashboard({
      port,
      grant: [SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT],
    });
    cleanups.push(() => now.close());
    await until(() => now.raw.length >= 1, 5_000);
    await until(() => l.connected);
    // The post-apply snapshot and the result, in one turn (as the agent sends them).
    l.send({ type: "snapshot", v: 2, seq: 1, takenAt: 1, appliedRevision: 2, linux });
    l.send({
      type: "apply-result",
      v: 2,
      revision: 2,
      ok: true,
      durationMs: 1,
      trigger: "desired",
      changed: true,
    });
    await until(() => now.raw.length >= 2);
    // As the dashboard's gateway decodes the connection's frames, the hello first.
    const decoder = createReporterDecoder();
    const decoded = now.raw.map((f) => decoder.decode(f));
    expect(decoded.filter((d) => !d.ok)).toEqual([]);
  });
});

describe("a snapshot-request after a snapshot without rules to name (break8)", () => {
  it("is never answered with an older snapshot than the last one sent", async () => {
    const d = await startFakeDashboard({ grant: [SNAPSHOT_DIGESTS] });
    cleanups.push(() => d.close());
    const l = createLink({ url: d.url, hello: () => helloFor("node-l"), onMessage: () => {} });
    cleanups.push(() => l.close());
    await d.waitFor("hello");
    // Rules by digest, then a snapshot with no iptables part (a native nftables node whose
    // iptables tables went away, say): nothing to name by digest, sent as it is.
    l.send({ type: "snapshot", v: 2, seq: 1, takenAt: 1, appliedRevision: 2, linux });
    l.send({ type: "snapshot", v: 2, seq: 2, takenAt: 2, appliedRevision: 2 });
    await d.waitFor("snapshot", (s) => s.seq === 2);
    // The dashboard's request for the first digest crossed the second snapshot.
    d.send({ type: "snapshot-request", v: 2, digest: `sha256:${"0".repeat(64)}` });
    await new Promise((r) => setTimeout(r, 200));
    const seqs = d.messages.flatMap((m) => (m.type === "snapshot" ? [m.seq] : []));
    // Whatever answers it, nothing older than seq 2 comes after seq 2.
    expect(seqs.slice(seqs.indexOf(2))).not.toContain(1);
  });
});
