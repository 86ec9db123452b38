import { render, screen, waitFor } from "@testing-library/svelte";
import { expect, it, vi } from "vitest";
import App from "../App.svelte";
import { ROWS_PER_FRAME } from "../components/ConnectionsView.svelte";
import * as ipc from "./fakeIpc";
import { manyConnections } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

// In a file of its own: only the window's first frame draws a part of the list, and
// each test file is a window of its own.
it("draws a screenful of a long list in the first frame, the rest a slice a frame", async () => {
  const many = manyConnections(200);
  ipc.resetIpc();
  ipc.listConnections.mockResolvedValue(many);
  window.innerHeight = 720; // the window's height as made (tauri.conf.json)
  const counts: number[] = [];
  const rows = () => screen.queryAllByTestId("connection-row").length;
  const watch = new MutationObserver(() => counts.at(-1) !== rows() && counts.push(rows()));
  watch.observe(document.body, { childList: true, subtree: true });
  render(App, { props: { initialConnections: many } });
  expect(rows()).toBe(15); // 720 px at 48 px a row, at the least
  // Frames come as fast as the machine draws them: wait as long as a busy one takes.
  await waitFor(() => expect(rows()).toBe(200), { timeout: 15_000 });
  watch.disconnect();
  // Each frame after the first adds one slice at most, so input waits for no more.
  const added = counts.slice(1).map((count, i) => count - (counts[i] ?? 0));
  expect(counts[0]).toBe(15);
  expect(Math.max(...added)).toBeLessThanOrEqual(ROWS_PER_FRAME);
});
