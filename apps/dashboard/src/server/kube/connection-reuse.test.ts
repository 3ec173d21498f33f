import { describe, expect, it } from "vitest";
import { laneOf } from "./connection-reuse.js";

describe("laneOf: which connection pool a request to the API server takes", () => {
  const base = "https://10.96.0.1:443";
  const cases = [
    {
      desc: "a watch holds its connection: its own pool",
      input: `${base}/apis/ipmasq.dev/v1alpha1/nodemasquerades?watch=true&resourceVersion=7`,
      want: "watch",
    },
    {
      desc: "a watch of Leases is still a watch",
      input: `${base}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?watch=true`,
      want: "watch",
    },
    {
      desc: "a Lease renewal never waits behind ordinary calls",
      input: `${base}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/ipmasq-dashboard`,
      want: "lease",
    },
    {
      desc: "a list (watch=false) is ordinary",
      input: `${base}/api/v1/namespaces/kube-system/configmaps?watch=false&limit=500`,
      want: "api",
    },
    {
      desc: "a TokenReview is ordinary",
      input: `${base}/apis/authentication.k8s.io/v1/tokenreviews`,
      want: "api",
    },
    {
      desc: "a path that only names coordination further on is ordinary",
      input: `${base}/api/v1/namespaces/coordination.k8s.io/events`,
      want: "api",
    },
    { desc: "not a URL: ordinary", input: "not a url", want: "api" },
  ];
  for (const c of cases) it(c.desc, () => expect(laneOf(c.input)).toBe(c.want));
});
