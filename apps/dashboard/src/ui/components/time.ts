// Relative and absolute time formatting (pure).
export function toMillis(t: number | string | null | undefined): number | null {
  if (t === null || t === undefined || t === "") return null;
  if (typeof t === "number") return Number.isFinite(t) ? (t < 1e11 ? t * 1000 : t) : null;
  const n = Number(t);
  if (Number.isFinite(n) && /^\d+$/.test(t)) return n < 1e11 ? n * 1000 : n;
  const d = Date.parse(t);
  return Number.isNaN(d) ? null : d;
}

export function relativeTime(then: number, now: number): string {
  const s = Math.round((now - then) / 1000);
  if (s < 0) return s > -5 ? "just now" : "in the future";
  if (s < 5) return "just now";
  if (s < 60) return `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  const d = Math.floor(h / 24);
  return `${d} days ago`;
}

/** A time to come: "in 42s", "in 3 min"; "now" once it is due. */
export function untilTime(then: number, now: number): string {
  const s = Math.round((then - now) / 1000);
  if (s <= 0) return "now";
  if (s < 60) return `in ${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `in ${m} min`;
  const h = Math.round(m / 60);
  return h < 48 ? `in ${h} h` : `in ${Math.round(h / 24)} days`;
}

export function absoluteTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}
