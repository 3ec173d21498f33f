// Stand-ins for iptables programs, for fault injection. They are tiny sh scripts written by the
// test itself (the reporter still runs them with argv arrays, never through a shell).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function wrapperDir() {
  const dir = mkdtempSync(join(tmpdir(), "imr-wrap-"));
  return {
    dir,
    script(name: string, body: string): string {
      const path = join(dir, name);
      writeFileSync(path, `#!/bin/sh\n${body}\n`);
      chmodSync(path, 0o755);
      return path;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
