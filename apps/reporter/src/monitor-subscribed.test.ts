// Reading a monitor's nftables subscription from /proc: the parser against the kernel's
// net/netlink layout, and the fd match on a /proc-shaped directory (links as the kernel names
// sockets). The real monitors in a network namespace: test/monitor-subscribed.test.ts.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { monitorSubscribed, nftablesSubscribers } from "./monitor-subscribed.js";

const HEADER =
  "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode";
const row = (eth: number, groups: string, inode: number) =>
  `0000000075b6614b ${eth}  6222       ${groups} 0        0        0     2        0        ${inode}   `;

describe("nftablesSubscribers", () => {
  const cases: { desc: string; input: string; want: string[] }[] = [
    { desc: "no sockets", input: HEADER, want: [] },
    {
      desc: "nft monitor (nftables and trace groups: 0x140)",
      input: [HEADER, row(0, "00000000", 1), row(12, "00000140", 27650)].join("\n"),
      want: ["27650"],
    },
    {
      desc: "xtables-monitor -e (0x40) beside its unsubscribed request socket",
      input: [HEADER, row(12, "00000000", 27759), row(12, "00000040", 27760)].join("\n"),
      want: ["27760"],
    },
    {
      desc: "another protocol with bit 6 set (rtnetlink): not nftables",
      input: [HEADER, row(0, "00000040", 5)].join("\n"),
      want: [],
    },
    { desc: "only the trace group", input: [HEADER, row(12, "00000100", 9)].join("\n"), want: [] },
    {
      desc: "lines that do not read are skipped",
      input: [HEADER, "garbage", row(12, "zz", 3), "0 12 1 40 0 0 0 2 0 x", row(12, "40", 4)].join(
        "\n",
      ),
      want: ["4"],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect([...nftablesSubscribers(input)]).toEqual(want);
  });
});

describe("monitorSubscribed", () => {
  let proc: string;
  afterEach(() => rmSync(proc, { recursive: true, force: true }));

  /** A /proc with process 42: its namespace's netlink table and its fds' links. */
  function fakeProc(netlink: string | null, links: string[]) {
    proc = mkdtempSync(join(tmpdir(), "proc-"));
    mkdirSync(join(proc, "42", "net"), { recursive: true });
    mkdirSync(join(proc, "42", "fd"));
    if (netlink !== null) writeFileSync(join(proc, "42", "net", "netlink"), netlink);
    for (const [i, l] of links.entries()) symlinkSync(l, join(proc, "42", "fd", String(i)));
  }

  const subscribed = [HEADER, row(12, "00000140", 27650), row(12, "00000040", 999)].join("\n");
  const cases: { desc: string; input: [string | null, string[]]; want: boolean | undefined }[] = [
    {
      desc: "its socket joined the group",
      input: [subscribed, ["/dev/null", "socket:[27650]"]],
      want: true,
    },
    {
      desc: "another process's socket joined, not its own",
      input: [subscribed, ["/dev/null", "socket:[1234]", "pipe:[999]"]],
      want: false,
    },
    { desc: "nothing joined yet", input: [HEADER, ["socket:[27650]"]], want: false },
    { desc: "no netlink table (gone, or no /proc)", input: [null, []], want: undefined },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    fakeProc(...input);
    expect(monitorSubscribed(42, proc)).toBe(want);
  });
});
