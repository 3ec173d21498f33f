// The Windows CNI backend against real files: copies of the shared real-world fixtures in a temp
// directory. Proves that an apply rewrites only the OutBoundNAT list(s) (byte for byte outside
// them), keeps the previous file, replaces atomically (injected failures leave the original
// intact), verifies and restores, and never touches a file it cannot parse.
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEFAULT_FLAGS,
  defaultConfig,
  desiredExceptions,
  type MasqConfig,
  parseCniConfig,
} from "@masq/shared";
import { CNI_CONFIGS_DIR as FIXTURES } from "@masq/testkit/cni-configs";
import { afterEach, describe, expect, it } from "vitest";
import { type CniFs, nodeCniFs } from "../src/backend/cni-file.js";
import {
  createWindowsCniBackend,
  ORIGINAL_SUFFIX,
  type WindowsCniBackendOptions,
} from "../src/backend/windows-cni.js";
import { outsideValues, valueAt, valueSpan } from "./helpers/json-span.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "imr-win-"));
  dirs.push(d);
  return d;
}

/** A copy of a fixture in a fresh temp dir, with an old mtime so a rewrite is visible. */
function copy(name: string, dir = tempDir()): string {
  const p = join(dir, name);
  copyFileSync(join(FIXTURES, name), p);
  utimesSync(p, new Date(2020, 0, 1), new Date(2020, 0, 1));
  return p;
}

function backend(path: string, extra: Partial<WindowsCniBackendOptions> = {}) {
  return createWindowsCniBackend({ path, flags: DEFAULT_FLAGS, ...extra });
}

const cfg = (cidrs: string[], extra: Partial<MasqConfig> = {}): MasqConfig => ({
  ...defaultConfig(),
  nonMasqueradeCIDRs: cidrs,
  ...extra,
});

const DESIRED = desiredExceptions(defaultConfig());

/** Bytes and mtime, to prove a file was not touched. */
function fingerprint(path: string) {
  const s = statSync(path);
  return { bytes: readFileSync(path).toString("base64"), mtimeMs: s.mtimeMs, ino: s.ino };
}

/** Everything in the directory but the fixture itself. */
const extras = (dir: string, name: string) => readdirSync(dir).filter((f) => f !== name);

const ROUND_TRIPS: { file: string; ipv6Only?: string[] }[] = [
  { file: "win-bridge-v1.conf" },
  { file: "flannel-win-bridge-v2.conf" },
  { file: "win-overlay-v2.conf" },
  { file: "ovn-kubernetes-win-overlay.conf" },
  { file: "flannel-win-overlay.conflist" },
  { file: "flannel-overlay-powershell.conf" },
  { file: "flannel-win-overlay-inline.conf" },
  { file: "flannel-l2bridge-hcnpolicyargs.conf" },
  { file: "calico-windows.conflist" },
  { file: "azure-vnet.conflist" },
  { file: "sdnbridge-containerd.conf" },
  { file: "sdnbridge-dualstack.conf", ipv6Only: ["/AdditionalArgs/1/Value/Settings/Exceptions"] },
];

describe("apply rewrites only the OutBoundNAT list of real-world CNI configs", () => {
  for (const { file, ipv6Only = [] } of ROUND_TRIPS) {
    it(file, async () => {
      const path = copy(file);
      const before = readFileSync(path, "utf8");
      const b = backend(path);
      const snap = await b.read();
      expect(snap.readError).toBeUndefined();
      const pointers = snap.lists.map((l) => l.pointer);
      expect(pointers.length).toBeGreaterThan(0);
      // The independent scanner agrees that each pointer is a list in the file.
      for (const p of pointers) expect(Array.isArray(valueAt(before, p))).toBe(true);

      const o = await b.apply(defaultConfig(), "cli");
      expect(o).toMatchObject({ ok: true, changed: true, rolledBack: false });
      const after = readFileSync(path, "utf8");

      // Byte for byte, nothing outside the lists changed (keys, order, spacing, line endings).
      expect(outsideValues(after, pointers)).toEqual(outsideValues(before, pointers));
      for (const p of pointers)
        expect(valueAt(after, p)).toEqual(ipv6Only.includes(p) ? valueAt(before, p) : DESIRED);
      for (const p of ipv6Only) {
        const [s, e] = valueSpan(before, p);
        const [s2, e2] = valueSpan(after, p);
        expect(after.slice(s2, e2)).toBe(before.slice(s, e));
      }
      // The snapshot of the outcome is what the file now says.
      expect(o.snapshots?.lists.map((l) => l.exceptions)).toEqual(
        pointers.map((p) => valueAt(after, p)),
      );

      // The previous content is kept, outside the runtime's view (no CNI extension).
      expect(o.backupPath).toBe(`${path}.ipmasq-backup`);
      expect(readFileSync(o.backupPath!, "utf8")).toBe(before);
      expect(readFileSync(`${path}${ORIGINAL_SUFFIX}`, "utf8")).toBe(before);
      expect(extras(join(path, ".."), file).sort()).toEqual(
        [`${file}.ipmasq-backup`, `${file}.ipmasq-original`].sort(),
      );

      // Applying again writes nothing.
      const fp = fingerprint(path);
      const again = await b.apply(defaultConfig(), "periodic");
      expect(again).toMatchObject({ ok: true, changed: false });
      expect(fingerprint(path)).toEqual(fp);
    });
  }
});

describe("backups", () => {
  it("keeps the last previous content and the first-seen original", async () => {
    const path = copy("win-bridge-v1.conf");
    const original = readFileSync(path, "utf8");
    const b = backend(path);
    expect((await b.apply(cfg(["10.0.0.0/8"]), "cli")).ok).toBe(true);
    const first = readFileSync(path, "utf8");
    expect((await b.apply(cfg(["10.0.0.0/8", "172.16.0.0/12"]), "cli")).ok).toBe(true);
    expect(readFileSync(`${path}.ipmasq-backup`, "utf8")).toBe(first);
    expect(readFileSync(`${path}.ipmasq-original`, "utf8")).toBe(original);
    // Rolling back by hand: the backup is a complete, valid CNI config.
    expect(parseCniConfig(readFileSync(`${path}.ipmasq-backup`, "utf8")).ok).toBe(true);
  });

  it("can skip the original and use another suffix, never a CNI extension", async () => {
    const path = copy("win-bridge-v1.conf");
    const b = backend(path, { backupSuffix: ".bak", keepOriginal: false });
    const o = await b.apply(defaultConfig(), "cli");
    expect(o.backupPath).toBe(`${path}.bak`);
    expect(extras(join(path, ".."), "win-bridge-v1.conf")).toEqual(["win-bridge-v1.conf.bak"]);
    for (const bad of [".conf", ".old.conflist", ".JSON", "", "/x"])
      expect(() => backend(path, { backupSuffix: bad })).toThrow(/suffix/);
  });

  it("keeps the file's mode and owner", async () => {
    const path = copy("calico-windows.conflist");
    chmodSync(path, 0o640);
    chownSync(path, 1234, 2345);
    expect((await backend(path).apply(defaultConfig(), "cli")).changed).toBe(true);
    const s = statSync(path);
    expect(s.mode & 0o7777).toBe(0o640);
    expect([s.uid, s.gid]).toEqual([1234, 2345]);
    expect(statSync(`${path}.ipmasq-backup`).mode & 0o7777).toBe(0o640);
  });

  it("writes through a symlink to the real file and keeps the link", async () => {
    const real = copy("flannel-win-overlay.conflist");
    const linkDir = tempDir();
    const link = join(linkDir, "10-flannel.conflist");
    symlinkSync(real, link);
    const o = await backend(link).apply(defaultConfig(), "cli");
    expect(o.ok).toBe(true);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(o.backupPath).toBe(`${real}.ipmasq-backup`);
    expect(
      valueAt(
        readFileSync(real, "utf8"),
        "/plugins/0/delegate/Policies/0/Value/Settings/Exceptions",
      ),
    ).toEqual(DESIRED);
    expect(readdirSync(linkDir)).toEqual(["10-flannel.conflist"]);
  });
});

describe("files it cannot parse are refused and never touched", () => {
  const CASES: { desc: string; make: (dir: string) => string; error: RegExp }[] = [
    {
      desc: "a real config with a missing comma",
      make: (dir) => copy("azure-vnet-missing-comma.conflist", dir),
      error: /not valid JSON at line 57, column 17/,
    },
    {
      desc: "a truncated file",
      make: (dir) => {
        const p = join(dir, "10-trunc.conf");
        writeFileSync(p, readFileSync(join(FIXTURES, "win-bridge-v1.conf"), "utf8").slice(0, 400));
        return p;
      },
      error: /not valid JSON/,
    },
    {
      desc: "an empty file",
      make: (dir) => {
        const p = join(dir, "10-empty.conf");
        writeFileSync(p, "");
        return p;
      },
      error: /empty/,
    },
    {
      desc: "a UTF-16 file (PowerShell Out-File)",
      make: (dir) => {
        const p = join(dir, "10-utf16.conf");
        const text = readFileSync(join(FIXTURES, "win-bridge-v1.conf"), "utf8");
        writeFileSync(p, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]));
        return p;
      },
      error: /UTF-16/,
    },
    {
      desc: "invalid UTF-8",
      make: (dir) => {
        const p = join(dir, "10-latin1.conf");
        const text = readFileSync(join(FIXTURES, "win-bridge-v1.conf"), "utf8");
        writeFileSync(p, Buffer.from(text.replace('"cbr0"', '"cbr\u00e9"'), "latin1"));
        return p;
      },
      error: /not valid UTF-8/,
    },
    {
      desc: "keys that differ only in case",
      make: (dir) => {
        const p = join(dir, "10-dup.conf");
        writeFileSync(
          p,
          '{"type":"win-bridge","policies":[],"Policies":[{"name":"EndpointPolicy","value":{"Type":"OutBoundNAT","ExceptionList":[]}}]}',
        );
        return p;
      },
      error: /ambiguous/,
    },
    {
      desc: "a valid config without an OutBoundNAT list",
      make: (dir) => copy("win-overlay-no-policy.conf", dir),
      error: /no OutBoundNAT exception list to rewrite/,
    },
  ];
  for (const c of CASES) {
    it(c.desc, async () => {
      const dir = tempDir();
      const path = c.make(dir);
      utimesSync(path, new Date(2020, 0, 1), new Date(2020, 0, 1));
      const fp = fingerprint(path);
      const b = backend(path);
      const o = await b.apply(defaultConfig(), "cli");
      expect(o).toMatchObject({ ok: false, changed: false, rolledBack: false });
      expect(o.error).toMatch(c.error);
      expect(o.error).toMatch(/the file was not touched/);
      expect(fingerprint(path)).toEqual(fp);
      expect(readdirSync(dir)).toEqual([path.slice(dir.length + 1)]);
    });
  }

  it("reports a missing file and creates nothing", async () => {
    const dir = tempDir();
    const b = backend(join(dir, "10-none.conf"));
    expect((await b.read()).readError).toMatch(/cannot read .*10-none\.conf: ENOENT/);
    expect((await b.apply(defaultConfig(), "cli")).error).toMatch(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("refuses an invalid config before reading the file", async () => {
    const path = copy("win-bridge-v1.conf");
    const fp = fingerprint(path);
    const o = await backend(path).apply(cfg(["10.0.0.1/8"]), "cli");
    expect(o.error).toMatch(/config refused: 10\.0\.0\.1\/8 is not aligned/);
    expect(o.snapshots).toBeUndefined();
    expect(fingerprint(path)).toEqual(fp);
  });
});

describe("atomic replace", () => {
  const real = nodeCniFs;
  const tmpFiles = (dir: string) => readdirSync(dir).filter((f) => f.includes("ipmasq-tmp"));

  it("a failure while writing the temp file leaves the original intact", async () => {
    const path = copy("win-bridge-v1.conf");
    const dir = join(path, "..");
    const fp = fingerprint(path);
    const fs: Partial<CniFs> = {
      async writeNew(p, data, like) {
        // The new config (backups hold the old one): half the bytes reach the disk, then it is full.
        if (!Buffer.from(data).toString("utf8").includes("172.16.0.0/12"))
          return real.writeNew(p, data, like);
        await real.writeNew(p, data.subarray(0, data.length / 2), like);
        throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
      },
    };
    const o = await backend(path, { fs }).apply(defaultConfig(), "cli");
    expect(o).toMatchObject({ ok: false, changed: false, rolledBack: false });
    expect(o.error).toMatch(/ENOSPC; the file is unchanged/);
    expect(fingerprint(path)).toEqual(fp);
    expect(tmpFiles(dir)).toEqual([]);
    expect(o.snapshots?.lists[0]?.exceptions).toEqual([
      "10.244.0.0/16",
      "10.96.0.0/12",
      "192.168.10.0/24",
    ]);
  });

  it("a failed rename (between write and rename) leaves the original intact and no temp file", async () => {
    const path = copy("win-bridge-v1.conf");
    const dir = join(path, "..");
    const fp = fingerprint(path);
    const fs: Partial<CniFs> = {
      async rename(from, to) {
        if (to === path) throw Object.assign(new Error("i/o error"), { code: "EIO" });
        return real.rename(from, to);
      },
    };
    const o = await backend(path, { fs }).apply(defaultConfig(), "cli");
    expect(o.error).toMatch(/writing .* failed: EIO; the file is unchanged/);
    expect(fingerprint(path)).toEqual(fp);
    expect(tmpFiles(dir)).toEqual([]);
  });

  it("a crash between write and rename leaves the original and a temp file the runtime ignores", async () => {
    const path = copy("win-bridge-v1.conf");
    const dir = join(path, "..");
    const fp = fingerprint(path);
    // The process "dies": neither the rename nor the clean-up happens.
    const fs: Partial<CniFs> = {
      async rename(from, to) {
        if (to === path) throw Object.assign(new Error("killed"), { code: "EINTR" });
        return real.rename(from, to);
      },
      async rm() {},
    };
    await backend(path, { fs }).apply(defaultConfig(), "cli");
    expect(fingerprint(path)).toEqual(fp);
    const [tmp] = tmpFiles(dir);
    expect(tmp).toBeDefined();
    // libcni loads .conf, .conflist and .json only.
    expect(tmp).not.toMatch(/\.(conf|conflist|json)$/);
    expect(readFileSync(join(dir, tmp!), "utf8")).toContain("172.16.0.0/12");
  });

  it("restores the previous file when the read-back does not verify", async () => {
    const path = copy("flannel-win-overlay.conflist");
    const original = readFileSync(path);
    // A lying disk (or another writer): what is read back after the write lacks 10.0.0.0/8.
    const fs: Partial<CniFs> = {
      async readFile(p) {
        const buf = await real.readFile(p);
        const text = buf.toString("utf8");
        return p === path && text.includes("172.16.0.0/12")
          ? Buffer.from(text.replace('"10.0.0.0/8"', '"10.0.0.0/9"'))
          : buf;
      },
    };
    const o = await backend(path, { fs }).apply(defaultConfig(), "cli");
    expect(o).toMatchObject({ ok: false, changed: true, rolledBack: true });
    expect(o.error).toMatch(
      /verification failed \(missing 10\.0\.0\.0\/8.*\); previous file restored/,
    );
    expect(readFileSync(path)).toEqual(original);
    expect(tmpFiles(join(path, ".."))).toEqual([]);
  });

  it("does not overwrite an edit made while it was applying", async () => {
    const path = copy("win-bridge-v1.conf");
    const edited = readFileSync(path, "utf8").replace("192.168.10.0/24", "192.168.11.0/24");
    const fs: Partial<CniFs> = {
      async writeNew(p, data, like) {
        await real.writeNew(p, data, like);
        // Someone else writes the file right after our backup.
        if (p.includes("ipmasq-backup")) writeFileSync(path, edited);
      },
    };
    const o = await backend(path, { fs }).apply(defaultConfig(), "cli");
    expect(o.ok).toBe(false);
    expect(o.error).toMatch(/changed while applying; not written/);
    expect(readFileSync(path, "utf8")).toBe(edited);
  });
});

describe("read", () => {
  it("never throws: a directory, a missing file, garbage", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "junk.conf"), "\u0000\u0001garbage");
    for (const [name, error] of [
      ["sub", /not a regular file/],
      ["nope.conf", /ENOENT/],
      ["junk.conf", /cannot parse/],
    ] as const) {
      const s = await backend(join(dir, name)).read();
      expect(s).toMatchObject({ path: join(dir, name), lists: [] });
      expect(s.readError).toMatch(error);
    }
    expect(existsSync(join(dir, "sub"))).toBe(true);
  });
});
