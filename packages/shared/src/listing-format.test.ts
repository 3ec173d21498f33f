import { describe, expect, it } from "vitest";
import { listingFormatError } from "./listing-format.js";

describe("listingFormatError", () => {
  const cases: { desc: string; input: string; want: boolean }[] = [
    {
      desc: "iptables -t nat -L -n",
      input:
        "Chain IP-MASQ-AGENT (1 references)\ntarget     prot opt source               destination\nRETURN     all  --  0.0.0.0/0            10.0.0.0/8           /* ip-masq-agent */\n",
      want: true,
    },
    {
      desc: "-L -v --line-numbers",
      input:
        "Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)\nnum   pkts bytes target     prot opt in     out     source               destination\n",
      want: true,
    },
    {
      desc: "iptables -S",
      input: "-N IP-MASQ-AGENT\n-A IP-MASQ-AGENT -d 10.0.0.0/8 -j RETURN\n",
      want: false,
    },
    {
      desc: "iptables-save",
      input: "*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -j IP-MASQ-AGENT\nCOMMIT\n",
      want: false,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(listingFormatError(input) !== undefined).toBe(want);
  });
});
