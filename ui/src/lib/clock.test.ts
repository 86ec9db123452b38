import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startClock } from "./clock";

function show(state: "visible" | "hidden") {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  document.dispatchEvent(new Event("visibilitychange"));
}

describe("startClock", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    show("visible");
  });
  afterEach(() => {
    vi.useRealTimers();
    show("visible");
  });

  it("ticks while the page is visible and stops when told", () => {
    const ticks: Date[] = [];
    const stop = startClock((now) => ticks.push(now), 30_000);
    vi.advanceTimersByTime(90_000);
    expect(ticks).toHaveLength(3);
    stop();
    vi.advanceTimersByTime(90_000);
    expect(ticks).toHaveLength(3);
  });

  it("sets no timer while hidden and ticks at once on showing again", () => {
    const ticks: Date[] = [];
    const stop = startClock((now) => ticks.push(now), 30_000);
    show("hidden");
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(600_000);
    expect(ticks).toHaveLength(0);
    show("visible");
    expect(ticks).toHaveLength(1);
    vi.advanceTimersByTime(30_000);
    expect(ticks).toHaveLength(2);
    stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("starts without a timer when the page starts hidden", () => {
    show("hidden");
    const stop = startClock(() => {}, 30_000);
    expect(vi.getTimerCount()).toBe(0);
    stop();
  });
});
