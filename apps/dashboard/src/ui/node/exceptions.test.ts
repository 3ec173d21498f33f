import {
  assessWindows,
  defaultConfig,
  type ExceptionListSnapshot,
  type MasqConfig,
} from "@masq/shared";
import { describe, expect, it } from "vitest";
import { markExceptions } from "./exceptions";

const list = (exceptions: string[], pointer = "/policies/0/value/ExceptionList") =>
  ({ pointer, form: "EndpointPolicy", exceptions }) satisfies ExceptionListSnapshot;

/** What the panel gets: the lists and the server's differences for them. */
function marks(config: MasqConfig, lists: ExceptionListSnapshot[]) {
  const { differences } = assessWindows(config, { path: "C:/k/10.conf", lists });
  return lists.map((l) => markExceptions(l, differences));
}

const config = { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8", "172.16.0.0/12"] };

describe("markExceptions", () => {
  it("marks extra entries and appends the missing CIDRs", () => {
    expect(marks(config, [list(["10.0.0.0/8", "1.2.3.0/24", "169.254.0.0/16"])])).toEqual([
      [
        { cidr: "10.0.0.0/8", state: "same" },
        { cidr: "1.2.3.0/24", state: "unexpected" },
        { cidr: "169.254.0.0/16", state: "same" },
        { cidr: "172.16.0.0/12", state: "missing" },
      ],
    ]);
  });

  it("judges by behaviour, as the server does: plain IPs and covered blocks are not drift", () => {
    const c = { ...config, nonMasqueradeCIDRs: ["10.1.2.3/32", "10.0.0.0/8"], masqLinkLocal: true };
    expect(marks(c, [list(["10.1.2.3", "10.0.0.0/9", "10.128.0.0/9"])])).toEqual([
      [
        { cidr: "10.1.2.3", state: "same" },
        { cidr: "10.0.0.0/9", state: "same" },
        { cidr: "10.128.0.0/9", state: "same" },
      ],
    ]);
  });

  it("marks unreadable entries, and each list only with its own differences", () => {
    const c = { ...config, masqLinkLocal: true };
    expect(
      marks(c, [
        list(["10.0.0.0/8", "172.16.0.0/12", "%SERVICE_CIDR%"], "/a"),
        list(["10.0.0.0/8"], "/b"),
        list(["fd00::/8", "%X%"], "/c"),
      ]),
    ).toEqual([
      [
        { cidr: "10.0.0.0/8", state: "same" },
        { cidr: "172.16.0.0/12", state: "same" },
        { cidr: "%SERVICE_CIDR%", state: "unreadable" },
      ],
      [
        { cidr: "10.0.0.0/8", state: "same" },
        { cidr: "172.16.0.0/12", state: "missing" },
      ],
      // The IPv6 list of a dual-stack config is left as it is.
      [
        { cidr: "fd00::/8", state: "same" },
        { cidr: "%X%", state: "same" },
      ],
    ]);
  });
});
