// The heals no dashboard heard, kept in the state dir (`unheard-heals.json`) so a reporter
// restarted before its dashboard came back (a DaemonSet rollout, an OOM kill) still tells them:
// before, they were in memory only and a restart lost them. Written atomically on every change
// (a heal is rare: at most one per resync), removed once sent. A file that is not one (not a
// regular file, too large, not JSON, not this shape) is moved aside, never deleted, and said so;
// its heals are lost, nothing else changes.
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { replaceFile } from "@masq/node-util";
import { MAX_UNHEARD_HEALS, unheardHealSchema } from "@masq/shared";
import { z } from "zod";

export const UNHEARD_HEALS_FILE = "unheard-heals.json";
const FILE_VERSION = 1;
/** Bytes the file may have: 16 heals of ≤ 240 characters take about 6 KB. */
export const MAX_UNHEARD_HEALS_BYTES = 64 * 1024;

const fileSchema = z.strictObject({
  v: z.literal(FILE_VERSION),
  heals: z.array(unheardHealSchema).min(1).max(MAX_UNHEARD_HEALS),
  dropped: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});

/** What is kept: the heals (oldest first) and how many older ones were dropped. */
export type KeptHeals = Omit<z.infer<typeof fileSchema>, "v">;

/** A load: what the file held (none: no file), or why it was refused and where it went. */
export type HealsLoad = { ok: true; kept: KeptHeals | undefined } | { ok: false; reason: string };

export interface HealsFile {
  readonly path: string;
  load(): Promise<HealsLoad>;
  /** Writes `kept` (nothing kept: the file removed). Calls are written in order. */
  save(kept: KeptHeals): Promise<void>;
}

export function healsFile(dir: string): HealsFile {
  const path = join(dir, UNHEARD_HEALS_FILE);
  let writing: Promise<void> = Promise.resolve();
  return {
    path,
    load: () => loadFrom(path),
    save(kept) {
      // One write at a time, in order: the file ends as the last call said.
      const next = writing.then(() => writeTo(path, kept));
      writing = next.catch(() => {});
      return next;
    },
  };
}

async function writeTo(path: string, kept: KeptHeals): Promise<void> {
  if (kept.heals.length === 0) {
    await rm(path, { force: true });
    return;
  }
  const text = `${JSON.stringify(fileSchema.parse({ v: FILE_VERSION, ...kept }))}\n`;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await replaceFile(path, text, { mode: 0o600 });
}

async function loadFrom(path: string): Promise<HealsLoad> {
  let text: string | null;
  try {
    text = await readBounded(path);
  } catch (e) {
    return refuse(path, (e as Error).message);
  }
  if (text === null) return { ok: true, kept: undefined };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return refuse(path, `not JSON: ${(e as Error).message}`);
  }
  const r = fileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const at = issue?.path.map(String).join(".") || "(top)";
    return refuse(path, `not a list of heals: ${at}: ${issue?.message}`);
  }
  const { v: _, ...kept } = r.data;
  return { ok: true, kept };
}

/** The file's text; null when there is none. Throws for anything that is not a small file. */
async function readBounded(path: string): Promise<string | null> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw e;
  });
  if (st === null) return null;
  // Refused unopened: a FIFO would hold the start, a device never ends.
  if (!st.isFile()) throw new Error("not a regular file");
  if (st.size > MAX_UNHEARD_HEALS_BYTES)
    throw new Error(`${st.size} bytes, over the ${MAX_UNHEARD_HEALS_BYTES} allowed`);
  return readFile(path, "utf8");
}

/** A refused file, moved aside for a person to look at (left in place when it cannot be). */
async function refuse(path: string, why: string): Promise<HealsLoad> {
  const to = `${path}.bad-${Date.now()}`;
  const where = await rename(path, to).then(
    () => `moved aside to ${to}`,
    (e: Error) => `left in place, as it could not be moved aside: ${e.message}`,
  );
  return { ok: false, reason: `${path}: ${why} (${where}); the heals it held are not told` };
}
