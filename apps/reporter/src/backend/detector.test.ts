import { describe, expect, it } from "vitest";
import { type FakeTables, fakeNode } from "../../test/helpers/fake-iptables.js";
import { silentLogger } from "../log.js";
import { createDetector } from "./detector.js";

const WARNING = {
  code: 0,
  stdout: "",
  stderr: "# Warning: iptables-legacy tables present, use iptables-legacy to see them\n",
  timedOut: false,
};
const AGENT = "IP-MASQ-AGENT";

function node() {
  const nft: FakeTables = { version: "iptables v1.8.9 (nf_tables)", tables: {} };
  const legacy: FakeTables = { version: "iptables v1.8.9 (legacy)", tables: {}, procTables: [] };
  const fake = fakeNode({ nft, legacy });
  const detector = createDetector(fake.run, {
    families: ["ipv4"],
    agentChain: AGENT,
    monitor: true,
    log: silentLogger(),
  });
  const detections = () => fake.calls.filter((c) => c.join(" ") === "iptables-nft -V").length;
  return { legacy, detector, detections };
}

describe("createDetector", () => {
  it("detects once, then reuses what it found", async () => {
    const { detector, detections } = node();
    expect((await detector.current()).choice).toMatchObject({
      primary: "nf_tables",
      read: { ipv4: ["nf_tables"] },
    });
    await detector.current();
    expect(detections()).toBe(1);
  });

  it("detects again when iptables-nft warns of legacy tables it did not see, once per interval", async () => {
    const { legacy, detector, detections } = node();
    await detector.current();
    legacy.procTables = ["nat"];
    legacy.tables = {
      nat: {
        PREROUTING: ["-P PREROUTING ACCEPT"],
        OUTPUT: ["-P OUTPUT ACCEPT"],
        POSTROUTING: ["-P POSTROUTING ACCEPT", "-A POSTROUTING -j KUBE-POSTROUTING"],
      },
    };
    detector.note(WARNING);
    detector.note(WARNING);
    expect((await detector.current()).choice.read.ipv4).toEqual(["legacy", "nf_tables"]);
    expect(detections()).toBe(2);
    // Legacy tables are known now: the warning is no news.
    detector.note(WARNING);
    await detector.current();
    expect(detections()).toBe(2);
  });

  it("refresh() makes the next current() detect again, once", async () => {
    const { detector, detections } = node();
    await detector.current();
    detector.refresh();
    await detector.current();
    await detector.current();
    expect(detections()).toBe(2);
  });

  it("a warning that stays (legacy tables it cannot read) costs one detection per interval", async () => {
    const { legacy, detector, detections } = node();
    await detector.current();
    legacy.version = undefined; // iptables-legacy is not installed: its tables stay unseen
    for (let i = 0; i < 5; i++) {
      detector.note(WARNING);
      await detector.current();
    }
    expect(detections()).toBe(2);
  });
});
