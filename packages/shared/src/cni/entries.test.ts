import { describe, expect, it } from "vitest";
import { readExceptionEntry } from "./entries.js";

describe("readExceptionEntry (lenient, as HNS reads entries)", () => {
  const cases: {
    desc: string;
    input: string;
    want: { canonical: string; exact: boolean; note?: string } | null;
  }[] = [
    { desc: "canonical CIDR", input: "10.0.0.0/8", want: { canonical: "10.0.0.0/8", exact: true } },
    {
      desc: "plain IPv4",
      input: "10.1.2.3",
      want: { canonical: "10.1.2.3/32", exact: false, note: "plain IP" },
    },
    {
      desc: "plain IPv6",
      input: "fd00::5",
      want: { canonical: "fd00::5/128", exact: false, note: "plain IP" },
    },
    {
      desc: "host bits set",
      input: "10.137.198.27/23",
      want: { canonical: "10.137.198.0/23", exact: false, note: "not aligned" },
    },
    {
      desc: "leading zero in the prefix",
      input: "10.0.0.0/08",
      want: { canonical: "10.0.0.0/8", exact: false, note: "not canonical" },
    },
    {
      desc: "spaces",
      input: " 10.0.0.0/8 ",
      want: { canonical: "10.0.0.0/8", exact: false, note: "not canonical" },
    },
    {
      desc: "long IPv6",
      input: "fd00:0:0:0:0:0:0:0/8",
      want: { canonical: "fd00::/8", exact: false, note: "not canonical" },
    },
    { desc: "template placeholder", input: "%CLUSTER_CIDR%", want: null },
    { desc: "placeholder with prefix", input: "{{LOCAL_ENDPOINT}}/32", want: null },
    { desc: "empty", input: "", want: null },
    { desc: "prefix too long", input: "10.0.0.0/33", want: null },
  ];
  for (const { desc, input, want } of cases) {
    it(desc, () => {
      const r = readExceptionEntry(input);
      if (want === null) expect(r).toEqual({ ok: false, text: input });
      else {
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect({
          canonical: r.cidr.canonical,
          exact: r.exact,
          ...(r.note ? { note: r.note } : {}),
        }).toEqual(want);
      }
    });
  }
});
