import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_FLAGS, defaultConfig, windowsSnapshotSchema } from "@masq/shared";
import { CNI_CONFIGS_DIR as FIXTURES } from "@masq/testkit/cni-configs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { decodeCniBytes } from "./cni-file.js";
import type { ChangeSource, Watch } from "./types.js";
import {
  createWindowsCniBackend,
  verifyExceptionLists,
  type WindowsCniBackendOptions,
} from "./windows-cni.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string | undefined;
let watch: Watch | undefined;
afterEach(() => {
  vi.useRealTimers();
  watch?.close();
  watch = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function setup(fixture = "win-bridge-v1.conf", extra: Partial<WindowsCniBackendOptions> = {}) {
  dir = mkdtempSync(join(tmpdir(), "imr-wcni-"));
  const path = join(dir, "10-bridge.conf");
  copyFileSync(join(FIXTURES, fixture), path);
  return { path, backend: createWindowsCniBackend({ path, flags: DEFAULT_FLAGS, ...extra }) };
}

function recorder() {
  const events: ChangeSource[] = [];
  return { events, onChange: (s: ChangeSource) => events.push(s) };
}

describe("decodeCniBytes", () => {
  it("keeps a UTF-8 byte order mark so the rewrite keeps it", () => {
    expect(decodeCniBytes(Buffer.from("\uFEFF{}", "utf8"))).toEqual({ ok: true, text: "\uFEFF{}" });
  });
  it("refuses UTF-16 and invalid UTF-8 instead of damaging them", () => {
    expect(decodeCniBytes(Buffer.from([0xff, 0xfe, 0x7b, 0x00]))).toMatchObject({ ok: false });
    expect(decodeCniBytes(Buffer.from([0xfe, 0xff, 0x00, 0x7b]))).toMatchObject({ ok: false });
    expect(decodeCniBytes(Buffer.from([0x7b, 0xe9, 0x7d]))).toEqual({
      ok: false,
      error: "the file is not valid UTF-8",
    });
  });
});

describe("verifyExceptionLists", () => {
  const pointer = "/policies/0/value/ExceptionList";
  it("passes the desired list, in sync also with cosmetic differences", () => {
    const lists = (exceptions: string[]) => [
      { pointer, form: "EndpointPolicy" as const, exceptions },
    ];
    const cfg = { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"], masqLinkLocal: true };
    expect(verifyExceptionLists(cfg, lists(["10.0.0.0/8"]))).toBeUndefined();
    expect(verifyExceptionLists(cfg, lists(["10.0.0.0/9", "10.128.0.0/9"]))).toBeUndefined();
    expect(verifyExceptionLists(cfg, lists([]))).toBe("missing 10.0.0.0/8");
    expect(verifyExceptionLists(cfg, [])).toBe("OutBoundNAT policy missing");
  });
});

describe("windows CNI backend", () => {
  it("is a Windows backend with the node's facts", async () => {
    const { backend } = setup();
    expect(backend.os).toBe("windows");
    expect(await backend.info()).toMatchObject({
      backend: "cni",
      iptablesVersion: "",
      randomFullySupported: false,
      monitor: true,
    });
    expect(await backend.effectiveFlags()).toEqual(DEFAULT_FLAGS);
    expect(backend.backupPath).toBe(`${backend.path}.ipmasq-backup`);
    expect(backend.originalPath).toBe(`${backend.path}.ipmasq-original`);
  });

  it("reads a protocol-valid snapshot and remembers the plugin", async () => {
    const { backend, path } = setup("flannel-win-overlay.conflist");
    const snap = await backend.read();
    expect(windowsSnapshotSchema.parse(snap)).toEqual(snap);
    expect(snap).toEqual({
      path,
      lists: [
        {
          pointer: "/plugins/0/delegate/Policies/0/Value/Settings/Exceptions",
          form: "OutBoundNAT",
          exceptions: ["10.42.0.0/16", "10.43.0.0/16"],
        },
      ],
    });
    expect(backend.plugin()).toBe("flannel/win-overlay");
  });

  it("reports lists too large for a protocol frame as a read error", async () => {
    const entries = Array.from({ length: 4000 }, (_, i) => `"10.${i >> 8}.${i & 255}.0/24"`);
    const policies = Array.from(
      { length: 4 },
      () => `{"name":"EndpointPolicy","value":{"Type":"OutBoundNAT","ExceptionList":[${entries}]}}`,
    );
    const { backend, path } = setup();
    writeFileSync(path, `{"type":"win-bridge","policies":[${policies}]}`);
    const snap = await backend.read();
    expect(snap.lists).toEqual([]);
    expect(snap.readError).toMatch(/too large to report \(16000 entries in 4 lists\)/);
  });

  it("watch: an editor's rename and an in-place write are each one coalesced event", async () => {
    const { backend, path } = setup("win-bridge-v1.conf", { debounceMs: 40 });
    const r = recorder();
    watch = backend.watch(r.onChange);
    await sleep(50);
    writeFileSync(`${path}.tmp`, "{}");
    renameSync(`${path}.tmp`, path);
    await sleep(150);
    expect(r.events).toEqual(["event"]);
    for (let i = 0; i < 5; i++) writeFileSync(path, `{"n":${i}}`);
    await sleep(150);
    expect(r.events).toEqual(["event", "event"]);
  });

  it("watch: other files of the directory are ignored; the poll is the fallback", async () => {
    const { backend, path } = setup("win-bridge-v1.conf", { pollIntervalMs: 100 });
    const r = recorder();
    watch = backend.watch(r.onChange);
    await sleep(30);
    writeFileSync(join(path, "..", "99-other.conf"), "{}");
    await sleep(250);
    expect(r.events.filter((e) => e === "event")).toEqual([]);
    expect(r.events.filter((e) => e === "poll").length).toBeGreaterThanOrEqual(2);
    watch.close();
    const n = r.events.length;
    writeFileSync(path, "{}");
    await sleep(150);
    expect(r.events.length).toBe(n);
  });

  it("watch: a missing directory is retried, and polling goes on", async () => {
    vi.useFakeTimers();
    const { path } = setup();
    const backend = createWindowsCniBackend({
      path: join(path, "..", "not-yet", "10-x.conf"),
      flags: DEFAULT_FLAGS,
      pollIntervalMs: 50,
    });
    const r = recorder();
    watch = backend.watch(r.onChange);
    const polls = () => r.events.filter((e) => e === "poll").length;
    await vi.advanceTimersByTimeAsync(49);
    expect(polls()).toBe(0);
    await vi.advanceTimersByTimeAsync(101);
    expect(polls()).toBe(3);
  });
});
