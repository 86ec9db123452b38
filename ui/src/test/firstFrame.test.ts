import { render, screen, waitFor } from "@testing-library/svelte";
import { expect, it, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";
import { manyConnections } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

// In a file of its own: only the window's first frame draws a part of the list, and
// each test file is a window of its own.
it("draws a screenful of a long list in the first frame, every row right after", async () => {
  const many = manyConnections(200);
  ipc.resetIpc();
  ipc.listConnections.mockResolvedValue(many);
  window.innerHeight = 720; // the window's height as made (tauri.conf.json)
  render(App, { props: { initialConnections: many } });
  expect(screen.getAllByTestId("connection-row")).toHaveLength(15); // 720 px at 48 px a row, at the least
  await waitFor(() => expect(screen.getAllByTestId("connection-row")).toHaveLength(200));
});
