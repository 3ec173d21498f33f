import { readFile } from "node:fs/promises";

/** A file's UTF-8 text, or undefined when it does not exist (ENOENT); other errors throw. */
export async function readFileIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
