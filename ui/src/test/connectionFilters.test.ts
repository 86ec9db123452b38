import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";
import { connection } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

const google = { provider_id: "google", provider: "Google" };
const slack = { provider_id: "slack", provider: "Slack" };

beforeEach(() => {
  ipc.resetIpc();
  ipc.listConnections.mockResolvedValue([
    connection({ id: "mail", name: "Mail", ...google }),
    connection({ id: "drive", name: "Drive", status: "reauthorize", ...google }),
    connection({ id: "calendar", name: "Calendar", status: "needs_more_access", missing_scopes: ["x"], ...google }),
    connection({ id: "team", name: "Team chat", status: "retrying", ...slack }),
    connection({ id: "new", name: "New chat", status: "pending", ...slack }),
  ]);
});

function shownIds(): string[] {
  return screen.queryAllByTestId("connection-row").map((row) => row.dataset.connectionId!);
}

function status(name: string): HTMLInputElement {
  return screen.getByRole("radio", { name: new RegExp(`^${name} \\d+$`) });
}

function providerSelect(): HTMLSelectElement {
  return screen.getByRole("combobox", { name: "Provider" });
}

describe("Connection filters", () => {
  it("filter by status; Needs attention is Reauthorize and Needs more access; each says how many", async () => {
    const user = userEvent.setup();
    render(App);
    await screen.findAllByTestId("connection-row");

    expect(within(screen.getByRole("group", { name: "Status" })).getAllByRole("radio").map((r) => r.closest("label")?.textContent?.replace(/\s+/g, " ").trim())).toEqual([
      "All 5",
      "Active 1",
      "Needs attention 2",
      "Retrying 1",
      "Pending 1",
    ]);
    expect(status("All").checked).toBe(true);

    await user.click(status("Needs attention"));
    expect(shownIds()).toEqual(["drive", "calendar"]);
    await user.click(status("Retrying"));
    expect(shownIds()).toEqual(["team"]);
    await user.click(status("Pending"));
    expect(shownIds()).toEqual(["new"]);
    await user.click(status("Active"));
    expect(shownIds()).toEqual(["mail"]);
    await user.click(status("All"));
    expect(shownIds()).toEqual(["mail", "drive", "calendar", "team", "new"]);
  });

  it("filter by provider, counting within it; no match says so and Show all clears both filters", async () => {
    const user = userEvent.setup();
    render(App);
    await screen.findAllByTestId("connection-row");

    expect([...providerSelect().options].map((o) => o.textContent)).toEqual(["All providers", "Google", "Slack"]);
    await user.selectOptions(providerSelect(), "Slack");
    expect(shownIds()).toEqual(["team", "new"]);
    expect(status("Needs attention").closest("label")?.textContent).toContain("0");

    await user.click(status("Needs attention"));
    expect(shownIds()).toEqual([]);
    expect(screen.getByTestId("connections-no-match").textContent).toBe("No connections match these filters.");

    await user.click(screen.getByRole("button", { name: "Show all connections" }));
    expect(shownIds()).toHaveLength(5);
    expect(providerSelect().value).toBe("");
    expect(document.activeElement).toBe(status("All"));
  });

  it("keeps the filters across tabs, and drops a provider filter once that provider has no connection", async () => {
    const user = userEvent.setup();
    render(App);
    await screen.findAllByTestId("connection-row");
    await user.selectOptions(providerSelect(), "Slack");

    await user.click(screen.getByTestId("nav-catalog"));
    await user.click(screen.getByTestId("nav-connections"));
    expect(providerSelect().value).toBe("slack");
    expect(shownIds()).toEqual(["team", "new"]);

    ipc.listConnections.mockResolvedValue([connection({ id: "mail", name: "Mail", ...google })]);
    ipc.emit({ kind: "connections_changed" });
    await vi.waitFor(() => expect(shownIds()).toEqual(["mail"]));
    expect(providerSelect().value).toBe("");
  });

  it("the tray's item for a hidden connection clears the filters and focuses its Reconnect", async () => {
    const user = userEvent.setup();
    render(App);
    await screen.findAllByTestId("connection-row");
    await user.click(status("Pending"));

    ipc.showConnectionFromTray("drive");
    await vi.waitFor(() => expect(document.activeElement?.getAttribute("data-testid")).toBe("connection-reconnect"));
    expect(status("All").checked).toBe(true);
    expect(shownIds()).toHaveLength(5);
  });
});
