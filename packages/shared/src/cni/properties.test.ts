// Properties of parse, rewrite and drift together, on arbitrary text, damaged real files and
// generated configs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  blanked,
  config,
  FIXTURES,
  fixture,
  mustParse,
  outside,
  ranges,
} from "../test-fixtures/cni.js";
import { windowsDrift } from "./drift.js";
import { parseCniConfig } from "./parse.js";
import { rewriteExceptionLists } from "./rewrite.js";

const FIXTURE_NAMES = FIXTURES.map((f) => f.input).concat("azure-vnet-missing-comma.conflist");

const ipv4Cidr = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 }))
  .map(([v, p]) => {
    const net = p === 0 ? 0 : (v >>> (32 - p)) << (32 - p);
    const n = net >>> 0;
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${p}`;
  });

/** Keys the parser interprets; random extra fields must not collide with them. */
const INTERPRETED = new Set([
  "type",
  "plugins",
  "delegate",
  "policies",
  "additionalargs",
  "hcnpolicyargs",
  "name",
  "value",
  "settings",
  "exceptions",
  "exceptionlist",
]);
const extraFields = fc.dictionary(
  fc
    .string({ minLength: 1, maxLength: 8 })
    .filter((k) => !INTERPRETED.has(k.toLowerCase()) && k !== "__proto__"),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 4 },
);

const generatedConfig = fc.record({
  conflist: fc.boolean(),
  delegate: fc.boolean(),
  arrayKey: fc.constantFrom("policies", "Policies", "AdditionalArgs", "HcnPolicyArgs"),
  shape: fc.constantFrom("v1", "v2", "bare-v2", "bare-v1"),
  before: fc.integer({ min: 0, max: 2 }),
  after: fc.integer({ min: 0, max: 2 }),
  exceptions: fc.array(ipv4Cidr, { maxLength: 6 }),
  extra: extraFields,
  policyExtra: extraFields,
  indent: fc.constantFrom<string | number>(0, 1, 2, 4, "\t"),
  crlf: fc.boolean(),
  finalNewline: fc.boolean(),
});

type Generated = typeof generatedConfig extends fc.Arbitrary<infer T> ? T : never;

function build(g: Generated): { text: string; pointer: string; exceptions: string[] } {
  const route = (i: number) =>
    g.shape.startsWith("bare")
      ? { Type: "SDNRoute", Settings: { DestinationPrefix: `10.${i}.0.0/16`, NeedEncap: true } }
      : {
          Name: "EndpointPolicy",
          Value: { Type: "ROUTE", DestinationPrefix: `10.${i}.0.0/16`, NeedEncap: true },
        };
  let nat: unknown;
  let tail: string;
  if (g.shape === "v1") {
    nat = {
      Name: "EndpointPolicy",
      Value: { ...g.policyExtra, Type: "OutBoundNAT", ExceptionList: g.exceptions },
    };
    tail = "Value/ExceptionList";
  } else if (g.shape === "v2") {
    nat = {
      Name: "EndpointPolicy",
      Value: { Type: "OutBoundNAT", ...g.policyExtra, Settings: { Exceptions: g.exceptions } },
    };
    tail = "Value/Settings/Exceptions";
  } else if (g.shape === "bare-v2") {
    nat = { Type: "OutBoundNAT", Settings: { Exceptions: g.exceptions, ...g.policyExtra } };
    tail = "Settings/Exceptions";
  } else {
    nat = { ...g.policyExtra, Type: "OutBoundNAT", ExceptionList: g.exceptions };
    tail = "ExceptionList";
  }
  const policies = [
    ...Array.from({ length: g.before }, (_, i) => route(i)),
    nat,
    ...Array.from({ length: g.after }, (_, i) => route(i + 10)),
  ];
  const inner: Record<string, unknown> = { type: "win-bridge", ...g.extra, [g.arrayKey]: policies };
  const plugin = g.delegate ? { type: "flannel", delegate: inner } : inner;
  const doc = g.conflist
    ? { cniVersion: "0.3.1", name: "gen", ...g.extra, plugins: [plugin, { type: "portmap" }] }
    : { cniVersion: "0.2.0", name: "gen", ...plugin };
  let pointer = g.conflist ? "/plugins/0" : "";
  if (g.delegate) pointer += "/delegate";
  pointer += `/${g.arrayKey}/${g.before}/${tail}`;
  let text = JSON.stringify(doc, null, g.indent);
  if (g.crlf) text = text.replace(/\n/g, "\r\n");
  if (g.finalNewline) text += g.crlf ? "\r\n" : "\n";
  return { text, pointer, exceptions: g.exceptions };
}

describe("properties", () => {
  it("parseCniConfig and rewriteExceptionLists never throw on arbitrary text", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.json()),
        fc.array(fc.string(), { maxLength: 4 }),
        (text, exceptions) => {
          const p = parseCniConfig(text);
          const r = rewriteExceptionLists(text, exceptions);
          expect(typeof p.ok).toBe("boolean");
          expect(typeof r.ok).toBe("boolean");
        },
      ),
      { numRuns: 500 },
    );
  });

  it("never throw on damaged real files, and a rewrite reads back as written", () => {
    const damage = fc.record({
      name: fc.constantFrom(...FIXTURE_NAMES),
      at: fc.nat(),
      cut: fc.integer({ min: 0, max: 3 }),
      insert: fc.oneof(
        fc.constant(""),
        fc.constantFrom(",", "]", "}", "[", '"', ":", "\\", "/", " ", "\n", "{", "null"),
        fc.string({ maxLength: 3 }),
      ),
    });
    fc.assert(
      fc.property(
        damage,
        fc.array(ipv4Cidr, { maxLength: 4 }),
        ({ name, at, cut, insert }, exceptions) => {
          const original = fixture(name);
          const i = at % (original.length + 1);
          const text = original.slice(0, i) + insert + original.slice(i + cut);
          const p = parseCniConfig(text);
          const r = rewriteExceptionLists(text, exceptions);
          if (!p.ok) expect(r).toEqual({ ok: false, error: p.error });
          if (r.ok && r.changed) {
            const back = mustParse(r.text);
            expect(back.lists.map((l) => l.pointer)).toEqual(
              p.ok ? p.lists.map((l) => l.pointer) : [],
            );
            expect(rewriteExceptionLists(r.text, exceptions)).toEqual({
              ok: true,
              text: r.text,
              changed: false,
            });
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("on generated configs: finds the list, rewrites only it, idempotently", () => {
    fc.assert(
      fc.property(generatedConfig, fc.array(ipv4Cidr, { maxLength: 6 }), (g, next) => {
        const { text, pointer, exceptions } = build(g);
        const p = mustParse(text);
        expect(p.lists).toEqual([
          { pointer, form: g.shape.endsWith("v1") ? "EndpointPolicy" : "OutBoundNAT", exceptions },
        ]);
        const r = rewriteExceptionLists(text, next);
        if (!r.ok) throw new Error(r.error);
        const same = next.length === exceptions.length && next.every((x, i) => x === exceptions[i]);
        expect(r.changed).toBe(!same);
        expect(mustParse(r.text).lists).toEqual([{ ...p.lists[0]!, exceptions: next }]);
        expect(outside(r.text, ranges(r.text, [pointer]))).toEqual(
          outside(text, ranges(text, [pointer])),
        );
        expect(blanked(r.text, [pointer])).toBe(blanked(text, [pointer]));
        if (g.crlf) expect(r.text.replace(/\r\n/g, "")).not.toMatch(/\n/);
        else expect(r.text).not.toMatch(/\r/);
        expect(rewriteExceptionLists(r.text, next)).toEqual({
          ok: true,
          text: r.text,
          changed: false,
        });
        // Drift after the rewrite: in sync with a config whose desired list is `next`.
        const cfg = config({ nonMasqueradeCIDRs: next, masqLinkLocal: true });
        const diffs = windowsDrift(cfg, mustParse(r.text).lists);
        expect(diffs.filter((d) => d.severity !== "info")).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
