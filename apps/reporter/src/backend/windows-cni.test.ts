import { EventEmitter } from "node:events";
import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_FLAGS, defaultConfig, windowsSnapshotSchema } from "@masq/shared";
import { CNI_CONFIGS_DIR as FIXTURES } from "@masq/testkit/cni-configs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type CniFs, type DirWatcher, decodeCniBytes } from "./cni-file.js";
import type { ChangeSource, Watch } from "./types.js";
import {
  createWindowsCniBackend,
  verifyExceptionLists,
  type WindowsCniBackendOptions,
} from "./windows-cni.js";

/** How long a real fs.watch event may take to arrive on a loaded machine. */
const EVENT_WAIT = { timeout: 10_000, interval: 10 };

/** A directory watch the test drives: `emit(name)` is what fs.watch reports for a change. */
function fakeDirWatch() {
  const listeners = new Set<(filename: string | null) => void>();
  const fs: Pick<CniFs, "watchDir"> = {
    watchDir(_dir, listener) {
      listeners.add(listener);
      const w = Object.assign(new EventEmitter(), { close: () => listeners.delete(listener) });
      return w as unknown as DirWatcher;
    },
  };
  const emit = (name: string | null) => {
    for (const l of listeners) l(name);
  };
  return { fs, emit };
}

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
    vi.useFakeTimers();
    const dirs = fakeDirWatch();
    const { backend } = setup("win-bridge-v1.conf", { debounceMs: 40, fs: dirs.fs });
    const r = recorder();
    watch = backend.watch(r.onChange);
    // An editor's save: the temp file is written, then renamed onto the config.
    dirs.emit("10-bridge.conf.tmp");
    dirs.emit("10-bridge.conf.tmp");
    dirs.emit("10-bridge.conf");
    await vi.advanceTimersByTimeAsync(40);
    expect(r.events).toEqual(["event"]);
    for (let i = 0; i < 5; i++) dirs.emit("10-bridge.conf");
    await vi.advanceTimersByTimeAsync(40);
    expect(r.events).toEqual(["event", "event"]);
  });

  it("watch: other files of the directory are ignored; the poll is the fallback", async () => {
    vi.useFakeTimers();
    const dirs = fakeDirWatch();
    const { backend } = setup("win-bridge-v1.conf", { pollIntervalMs: 100, fs: dirs.fs });
    const r = recorder();
    watch = backend.watch(r.onChange);
    dirs.emit("99-other.conf");
    await vi.advanceTimersByTimeAsync(250);
    expect(r.events).toEqual(["poll", "poll"]);
    watch.close();
    dirs.emit("10-bridge.conf");
    await vi.advanceTimersByTimeAsync(250);
    expect(r.events).toEqual(["poll", "poll"]);
  });

  it("watch (real fs.watch): a rename onto the file and an in-place write are both seen", async () => {
    const { backend, path } = setup("win-bridge-v1.conf", { pollIntervalMs: 0 });
    const r = recorder();
    watch = backend.watch(r.onChange);
    writeFileSync(`${path}.tmp`, "{}");
    renameSync(`${path}.tmp`, path);
    await vi.waitFor(() => expect(r.events).toContain("event"), EVENT_WAIT);
    const seen = r.events.length;
    writeFileSync(path, "{}");
    await vi.waitFor(() => expect(r.events.length).toBeGreaterThan(seen), EVENT_WAIT);
    expect(new Set(r.events)).toEqual(new Set(["event"]));
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
