// Upstream's pkg/interval: the `--to-ports` flag ("1024-29999,32768-65535").
export interface PortInterval {
  first: number;
  last: number;
}

export type PortsParse = { ok: true; intervals: PortInterval[] } | { ok: false; message: string };

const NUM = /^[0-9]+$/;

function parseInterval(s: string): PortInterval | string {
  const p = s.split("-");
  if (p.length > 2) return `invalid interval "${s}"`;
  const [a = "", b] = p;
  if (!NUM.test(a) || (b !== undefined && !NUM.test(b))) return `invalid port number in "${s}"`;
  const first = Number(a);
  const last = b === undefined ? first : Number(b);
  if (first > last) return `first is greater than last in "${s}"`;
  if (first < 1 || last > 65535) return `port out of range 1-65535 in "${s}"`;
  return { first, last };
}

/** Parses a to-ports spec; the empty string means "no --to-ports". */
export function parseToPorts(spec: string): PortsParse {
  if (spec === "") return { ok: true, intervals: [] };
  const intervals: PortInterval[] = [];
  for (const part of spec.split(",")) {
    const r = parseInterval(part);
    if (typeof r === "string") return { ok: false, message: `--to-ports: ${r}` };
    intervals.push(r);
  }
  return { ok: true, intervals };
}

export function intervalSize(i: PortInterval): number {
  return Math.max(0, i.last - i.first + 1);
}

export function formatInterval(i: PortInterval): string {
  return i.first === i.last ? String(i.first) : `${i.first}-${i.last}`;
}
