import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_TIMER_DELAY_MS } from "./limits.js";
import { setLongInterval, setLongTimeout, timerStep } from "./timers.js";

const HOUR = 3_600_000;

describe("timerStep", () => {
  const tests: { desc: string; input: number; want: number }[] = [
    { desc: "short", input: 1500, want: 1500 },
    { desc: "the longest a timer takes", input: MAX_TIMER_DELAY_MS, want: MAX_TIMER_DELAY_MS },
    { desc: "600h is cut to the longest", input: 600 * HOUR, want: MAX_TIMER_DELAY_MS },
    { desc: "negative is 0", input: -5, want: 0 },
    { desc: "NaN is 0", input: Number.NaN, want: 0 },
    {
      desc: "Infinity waits the longest, again and again",
      input: Infinity,
      want: MAX_TIMER_DELAY_MS,
    },
  ];
  for (const { desc, input, want } of tests) it(desc, () => expect(timerStep(input)).toBe(want));
});

describe("long timers (fake clock)", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("600h fires once, after 600h, and not every millisecond before", () => {
    const fn = vi.fn();
    setLongTimeout(fn, 600 * HOUR);
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(600 * HOUR - 1001);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1200 * HOUR);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("a plain setTimeout of 600h is what broke: it fires at once", () => {
    const fn = vi.fn();
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    setTimeout(fn, 600 * HOUR);
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  it("clear stops a chained timeout at any step", () => {
    const fn = vi.fn();
    const t = setLongTimeout(fn, 3 * MAX_TIMER_DELAY_MS);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 5);
    t.clear();
    vi.advanceTimersByTime(10 * MAX_TIMER_DELAY_MS);
    expect(fn).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("short delays are plain timers", () => {
    const fn = vi.fn();
    setLongTimeout(fn, 50);
    vi.advanceTimersByTime(49);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("a 600h interval runs every 600h", () => {
    const fn = vi.fn();
    const t = setLongInterval(fn, 600 * HOUR);
    vi.advanceTimersByTime(20_000);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(3 * 600 * HOUR);
    expect(fn).toHaveBeenCalledTimes(3);
    t.clear();
    vi.advanceTimersByTime(3 * 600 * HOUR);
    expect(fn).toHaveBeenCalledTimes(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a short interval is a plain interval", () => {
    const fn = vi.fn();
    const t = setLongInterval(fn, 100);
    vi.advanceTimersByTime(1000);
    expect(fn).toHaveBeenCalledTimes(10);
    t.clear();
  });

  it("a callback may clear its own interval", () => {
    const t = setLongInterval(() => t.clear(), 600 * HOUR);
    vi.advanceTimersByTime(600 * HOUR);
    expect(vi.getTimerCount()).toBe(0);
  });
});
