import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { privateCa } from "@masq/testkit/tls";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_LIVENESS } from "../link-liveness.js";
import { dashboardCaFrom, type LinkCliOptions, livenessFrom } from "./link-options.js";

const dflt: LinkCliOptions = {
  livenessPingIdle: "1.5s",
  livenessDeadAfter: "5s",
  livenessHedge: "1.5s",
};

describe("livenessFrom: the reporter's liveness timings", () => {
  const cases: { desc: string; input: Partial<LinkCliOptions>; want: unknown }[] = [
    { desc: "the defaults are DEFAULT_LIVENESS", input: {}, want: DEFAULT_LIVENESS },
    {
      desc: "a quieter link: ping after 5 s, dead after 15 s",
      input: { livenessPingIdle: "5s", livenessDeadAfter: "15s", livenessHedge: "2s" },
      want: { pingIdleMs: 5_000, deadAfterMs: 15_000, hedgeMs: 2_000 },
    },
    {
      desc: "plain milliseconds",
      input: { livenessPingIdle: "1000", livenessDeadAfter: "2000" },
      want: { pingIdleMs: 1_000, deadAfterMs: 2_000, hedgeMs: 1_500 },
    },
    {
      desc: "dead after must exceed ping idle by the time a ping needs to be answered",
      input: { livenessPingIdle: "5s", livenessDeadAfter: "5.5s" },
      want: /--liveness-dead-after \(IPMASQ_LIVENESS_DEAD_AFTER\) 5.5s must exceed --liveness-ping-idle 5s by at least 1s/,
    },
    {
      desc: "dead before the ping",
      input: { livenessPingIdle: "3s", livenessDeadAfter: "2s" },
      want: /must exceed --liveness-ping-idle/,
    },
    {
      desc: "a ping idle time below the 0.5 s checks",
      input: { livenessPingIdle: "100ms" },
      want: /--liveness-ping-idle \(IPMASQ_LIVENESS_PING_IDLE\): 100ms is outside 0.5s–60s/,
    },
    {
      desc: "dead after beyond 5 minutes",
      input: { livenessPingIdle: "30s", livenessDeadAfter: "10m" },
      want: /--liveness-dead-after .* 10m is outside 0s–300s/,
    },
    {
      desc: "a hedge of 0",
      input: { livenessHedge: "0" },
      want: /--liveness-hedge \(IPMASQ_LIVENESS_HEDGE\): 0 is outside 0.1s–60s/,
    },
    {
      desc: "not a duration",
      input: { livenessPingIdle: "soon" },
      want: /--liveness-ping-idle .*invalid duration "soon"/,
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const o = { ...dflt, ...c.input };
      if (c.want instanceof RegExp) expect(() => livenessFrom(o)).toThrow(c.want);
      else expect(livenessFrom(o)).toEqual(c.want);
    });
});

describe("dashboardCaFrom: a private CA for wss://", () => {
  const dir = mkdtempSync(join(tmpdir(), "ipmasq-ca-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  // A real CA certificate (openssl, as a cluster admin would make one).
  const pem = privateCa().caPem;

  it("adds the file's certificates to Node's public roots (ca alone would replace them)", () => {
    const two = file("two.pem", `# bundle\n${pem}\n${pem}`);
    const ca = dashboardCaFrom(two);
    expect(ca).toHaveLength(rootCertificates.length + 2);
    expect(ca.slice(0, rootCertificates.length)).toEqual([...rootCertificates]);
    expect(ca.at(-1)).toBe(pem.trim());
  });

  const bad = [
    { desc: "a missing file", input: () => join(dir, "nope.pem"), want: /nope.pem: ENOENT/ },
    {
      desc: "no certificate in it",
      input: () =>
        file("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
      want: /key.pem: no PEM certificate/,
    },
    {
      desc: "a damaged certificate",
      input: () =>
        file("broken.pem", "-----BEGIN CERTIFICATE-----\nnotbase64\n-----END CERTIFICATE-----\n"),
      want: /--dashboard-ca \(IPMASQ_DASHBOARD_CA\) .*broken.pem: certificate 1: /,
    },
  ];
  for (const c of bad) it(c.desc, () => expect(() => dashboardCaFrom(c.input())).toThrow(c.want));
});
