// A node whose iptables-restore fails on demand: a directory of wrappers named like the
// restore programs the reporter runs (iptables-nft-restore, iptables-legacy-restore and the
// ip6tables ones), put first on the reporter's PATH. While the fault file exists, an input that
// writes rules (`-A` lines) fails as iptables-restore does, naming the line; listings (`-S`
// lines, how the reporter reads chains) and every input without the fault pass to the real
// program in /usr/sbin. No user text reaches the shell: the scripts are fixed text.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const PROGRAMS = [
  "iptables-nft-restore",
  "iptables-legacy-restore",
  "ip6tables-nft-restore",
  "ip6tables-legacy-restore",
];

export interface FaultyRestore {
  /** Environment for the reporter: PATH with the wrappers first. */
  env: { PATH: string };
  /** Turns the fault on (writes fail) or off. */
  fail(on: boolean): void;
}

function script(program: string, faultFile: string): string {
  return `#!/bin/sh
in=$(mktemp)
cat > "$in"
if [ -e '${faultFile}' ] && grep -q '^-A ' "$in"; then
  rm -f "$in"
  echo "${program}: line 3 failed (fault injected by the test)" >&2
  exit 1
fi
/usr/sbin/${program} "$@" < "$in"
rc=$?
rm -f "$in"
exit $rc
`;
}

/** Wrappers in `dir` (created); the fault starts off. */
export function faultyRestore(dir: string): FaultyRestore {
  const bin = join(dir, "bin");
  const faultFile = join(dir, "fault");
  mkdirSync(bin, { recursive: true });
  for (const p of PROGRAMS) {
    writeFileSync(join(bin, p), script(p, faultFile));
    chmodSync(join(bin, p), 0o755);
  }
  return {
    env: { PATH: `${bin}:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}` },
    fail(on) {
      if (on) writeFileSync(faultFile, "");
      else rmSync(faultFile, { force: true });
    },
  };
}
