// CPU time and RSS of another process, read from /proc (Linux): what the multi-replica
// benchmark measures its dashboard processes with, since they are the built bin and cannot be
// asked over IPC. CPU is user + system in clock ticks (USER_HZ = 100 on Linux: 10 ms
// resolution, fine for windows of seconds).
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** User + system CPU time of process `pid` so far, µs; NaN when it is gone. */
export function procCpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after "(comm) ".
    return ((Number(f[11]) + Number(f[12])) * 1e6) / USER_HZ;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size of process `pid`, bytes (VmRSS); NaN when it is gone. */
export function procRssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
