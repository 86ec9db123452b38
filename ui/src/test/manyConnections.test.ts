import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";
import { manyConnections } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

const MANY = manyConnections(200);

beforeEach(() => {
  ipc.resetIpc();
  ipc.listConnections.mockResolvedValue(MANY);
});

/** Every row, once the window has drawn them all (its first frame draws a screenful). */
async function allRows(): Promise<HTMLElement[]> {
  return waitFor(() => {
    const rows = screen.getAllByTestId("connection-row");
    expect(rows).toHaveLength(MANY.length);
    return rows;
  });
}

function rowOf(id: string): HTMLElement {
  return screen.getAllByTestId("connection-row").find((row) => row.dataset.connectionId === id)!;
}

describe("200 connections", () => {
  it("all show, counted and filtered", async () => {
    const user = userEvent.setup();
    render(App);
    expect(await allRows()).toHaveLength(200);
    const attention = MANY.filter((c) => c.status === "reauthorize").length;
    const attentionFilter = screen.getByRole("radio", { name: new RegExp(`^Needs attention ${attention}$`) });
    expect(within(screen.getByTestId("nav-connections")).getByText("200")).toBeTruthy();

    await user.click(attentionFilter);
    expect(screen.getAllByTestId("connection-row")).toHaveLength(attention);
    expect(screen.getAllByTestId("connection-reconnect")).toHaveLength(attention);
  });

  it("a change to one connection updates its row in place; the other 199 keep their elements", async () => {
    render(App);
    const before = await allRows();

    // What the engine sends after one refresh failed for good: the whole list again, as new objects.
    const after = MANY.map((c) => ({ ...c }));
    after[120] = { ...after[120]!, status: "reauthorize", status_reason: "Slack said invalid_grant" };
    ipc.listConnections.mockResolvedValue(after);
    ipc.emit({ kind: "connections_changed" });

    await waitFor(() => expect(within(rowOf("conn-120")).getByTestId("connection-status").textContent?.trim()).toBe("Reauthorize"));
    const now = screen.getAllByTestId("connection-row");
    expect(now.every((row, i) => row === before[i])).toBe(true);
    expect(within(rowOf("conn-120")).getByTestId("connection-reconnect")).toBeTruthy();
    expect(screen.getByTestId("announcer").textContent).toContain("Connection 120: Reauthorize");
  });

  it("the detail view of the 150th opens and returns to it", async () => {
    const user = userEvent.setup();
    render(App);
    await allRows();
    const opener = within(rowOf("conn-150")).getByTestId("connection-open");
    await user.click(opener);
    expect(screen.getByRole("heading", { level: 2 }).textContent).toBe("Connection 150");
    await user.keyboard("{Escape}");
    expect(document.activeElement).toBe(within(rowOf("conn-150")).getByTestId("connection-open"));
  });
});
