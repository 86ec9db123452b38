import { flushSync } from "svelte";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { AppState } from "../lib/app.svelte";
import * as ipc from "./fakeIpc";
import { connection } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-12-06T09:00:00Z") });
  ipc.resetIpc();
});
afterEach(() => vi.useRealTimers());

it("keeps no clock while no connection shows a relative time, and starts it on time", async () => {
  const app = new AppState([]);
  await app.start();
  flushSync();
  vi.advanceTimersByTime(6 * 3600_000);
  expect(app.now.toISOString()).toBe("2026-12-06T09:00:00.000Z");

  ipc.listConnections.mockResolvedValue([connection()]);
  await app.reloadConnections();
  flushSync();
  // Six hours on: "connected just now", not "in 6 hours".
  expect(app.now.toISOString()).toBe("2026-12-06T15:00:00.000Z");
  vi.advanceTimersByTime(30_000);
  expect(app.now.toISOString()).toBe("2026-12-06T15:00:30.000Z");

  ipc.listConnections.mockResolvedValue([]);
  await app.reloadConnections();
  flushSync();
  vi.advanceTimersByTime(60_000);
  expect(app.now.toISOString()).toBe("2026-12-06T15:00:30.000Z");
  app.stop();
});
