// Where a process's CPU time is spent by thread (Linux /proc/self/task/TID/stat): the main
// thread (JavaScript, the event loop and its syscalls) versus every other thread (V8's
// platform workers: parallel scavenges, concurrent marking, compilation; libuv's pool). A CPU
// profile samples the main thread only, so this says how much of process.cpuUsage it sees.
import { readdirSync, readFileSync } from "node:fs";

/** CPU time by thread, µs (clock ticks of 10 ms: meaningful over windows of ~1 s and more). */
export interface ThreadCpu {
  mainUser: number;
  mainSystem: number;
  /** All other threads, user + system. */
  others: number;
}

const TICK_MICROS = 10_000; // USER_HZ is 100 on Linux

/** utime and stime of one task, µs; undefined when the thread ended meanwhile. */
function taskTimes(tid: string): [number, number] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after "(comm)": state is field 3, utime 14, stime 15 (proc(5)).
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(rest[11]) * TICK_MICROS, Number(rest[12]) * TICK_MICROS];
}

export function threadCpu(): ThreadCpu {
  const out: ThreadCpu = { mainUser: 0, mainSystem: 0, others: 0 };
  for (const tid of readdirSync("/proc/self/task")) {
    const t = taskTimes(tid);
    if (!t) continue;
    if (Number(tid) === process.pid) [out.mainUser, out.mainSystem] = t;
    else out.others += t[0] + t[1];
  }
  return out;
}

export function threadCpuDelta(a: ThreadCpu, b: ThreadCpu): ThreadCpu {
  return {
    mainUser: b.mainUser - a.mainUser,
    mainSystem: b.mainSystem - a.mainSystem,
    others: b.others - a.others,
  };
}
