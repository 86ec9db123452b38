import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";
import { apiKeyIntegration, connection, flowStarted, integration } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

const GMAIL = "https://www.googleapis.com/auth/gmail.readonly";

beforeEach(() => {
  ipc.resetIpc();
  ipc.listCatalog.mockResolvedValue([integration(), apiKeyIntegration()]);
  ipc.listConnections.mockResolvedValue([
    connection({ id: "a", name: "Personal" }),
    connection({
      id: "m",
      name: "Mail",
      integration: "gmail",
      integration_name: "Gmail",
      provider: "Google",
      provider_id: "google",
      scopes: ["openid", "email", GMAIL],
      shared_with: ["Calendar"],
      last_refreshed_at: "2026-11-30T09:00:00Z",
    }),
  ]);
  ipc.connectionActivity.mockResolvedValue([
    { id: "7", at: "2026-11-30T09:00:00Z", kind: "credential_refreshed", subject: "Mail, Calendar", detail: null, program: null },
    { id: "3", at: "2026-11-29T08:00:00Z", kind: "credential_created", subject: "Mail", detail: null, program: null },
  ]);
});

describe("Connection detail", () => {
  it("opens from the keyboard, says everything in plain words, and Escape returns to the same row", async () => {
    const user = userEvent.setup();
    render(App);
    const [, mail] = await screen.findAllByTestId("connection-row");
    const opener = within(mail!).getByRole("button", { name: "Mail: details" });
    opener.focus();
    await user.keyboard("{Enter}");

    const detail = await screen.findByTestId("connection-detail");
    expect(document.activeElement?.id).toBe("connection-detail-title");
    expect(within(detail).getByRole("heading", { level: 2 }).textContent).toBe("Mail");
    expect(screen.queryByTestId("connection-row")).toBeNull();

    // Granted scopes as what they allow, the provider's string beside.
    const scopes = within(within(detail).getByTestId("detail-scopes")).getAllByRole("listitem");
    expect(scopes.map((li) => li.textContent?.replace(/\s+/g, " ").trim())).toEqual([
      "Confirm who you are when you sign in openid",
      "See your email address email",
      `Read your email messages and settings ${GMAIL}`,
    ]);
    expect(within(detail).getByTestId("detail-shared").textContent).toContain("Also used by Calendar");
    expect(within(detail).getByTestId("connection-account").textContent).toBe("ada@example.test");

    // Its own activity, asked of the engine by id.
    expect(ipc.connectionActivity).toHaveBeenCalledWith("m");
    const log = within(detail).getByRole("list", { name: "Activity of Mail" });
    expect(within(log).getAllByTestId("activity-row").map((r) => r.firstElementChild?.textContent)).toEqual([
      "Tokens refreshed",
      "Connected",
    ]);

    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("connection-detail")).toBeNull();
    const again = within(screen.getAllByTestId("connection-row")[1]!).getByTestId("connection-open");
    expect(document.activeElement).toBe(again);

    // The back button does the same.
    await user.click(again);
    await user.click(screen.getByTestId("detail-back"));
    expect(document.activeElement).toBe(within(screen.getAllByTestId("connection-row")[1]!).getByTestId("connection-open"));
  });

  it("follows the engine: a status change shows at once, its activity reloads, removal elsewhere returns to the list", async () => {
    const user = userEvent.setup();
    render(App);
    await user.click((await screen.findAllByTestId("connection-open"))[1]!);
    await screen.findByTestId("connection-detail");
    expect(ipc.connectionActivity).toHaveBeenCalledTimes(1);

    const broken = connection({ id: "m", name: "Mail", status: "reauthorize", status_reason: "Google said invalid_grant" });
    ipc.listConnections.mockResolvedValue([connection({ id: "a", name: "Personal" }), broken]);
    ipc.emit({ kind: "connections_changed" });
    await waitFor(() => expect(screen.getByTestId("connection-status").textContent?.trim()).toBe("Reauthorize"));
    expect(screen.getByTestId("connection-detail").textContent).toContain("Google said invalid_grant");
    expect(screen.getByTestId("connection-reconnect")).toBeTruthy();
    expect(screen.queryByTestId("connection-refresh")).toBeNull();
    await waitFor(() => expect(ipc.connectionActivity).toHaveBeenCalledTimes(2));

    ipc.listConnections.mockResolvedValue([connection({ id: "a", name: "Personal" })]);
    ipc.emit({ kind: "connections_changed" });
    await waitFor(() => expect(screen.queryByTestId("connection-detail")).toBeNull());
    expect(screen.getAllByTestId("connection-row")).toHaveLength(1);
  });

  it("a Reauthorize the provider did not cause does not blame the provider", async () => {
    const user = userEvent.setup();
    const reason = "its tokens are missing from the keychain, or unreadable there";
    ipc.listConnections.mockResolvedValue([connection({ id: "m", name: "Mail", status: "reauthorize", status_reason: reason })]);
    render(App);
    await user.click(await screen.findByTestId("connection-open"));
    const detail = await screen.findByTestId("connection-detail");
    expect(detail.textContent).toContain(reason);
    expect(detail.textContent).toContain("Reconnect to keep it working");
    expect(detail.textContent).not.toContain("provider no longer accepts");
  });

  it("a Reconnect started in the detail view ends there, focus on its title", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([connection({ id: "m", name: "Mail", status: "reauthorize" })]);
    ipc.reconnect.mockResolvedValue(flowStarted());
    render(App);
    await user.click(await screen.findByTestId("connection-open"));
    await user.click(screen.getByTestId("connection-reconnect"));
    expect(ipc.reconnect).toHaveBeenCalledWith("m");

    ipc.listConnections.mockResolvedValue([connection({ id: "m", name: "Mail" })]);
    ipc.emit({ kind: "flow_completed", flow_id: "flow-1", connection_id: "m" });
    await waitFor(() => expect(screen.getByTestId("connection-status").textContent?.trim()).toBe("Active"));
    expect(screen.getByTestId("connection-detail")).toBeTruthy();
    expect(screen.getByTestId("flow-message").textContent).toBe("Connected Mail.");
    await waitFor(() => expect(document.activeElement?.id).toBe("connection-detail-title"));
  });

  it("says what removing an API key does, and what an empty log means", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([
      connection({ id: "k", name: "OpenAI", integration: "openai", integration_name: "OpenAI", provider: "OpenAI", provider_id: "openai", scopes: [] }),
    ]);
    ipc.connectionActivity.mockResolvedValue([]);
    render(App);
    await user.click(await screen.findByTestId("connection-open"));

    expect(screen.getByTestId("detail-scopes").textContent).toBe("Whatever the key allows at the service.");
    expect(screen.getByTestId("detail-removal").textContent).toContain("The key itself stays valid at OpenAI");
    expect(await screen.findByTestId("detail-activity-empty")).toBeTruthy();
  });

  it("switching sections closes the detail view", async () => {
    const user = userEvent.setup();
    render(App);
    await user.click((await screen.findAllByTestId("connection-open"))[0]!);
    await user.click(screen.getByTestId("nav-activity"));
    await user.click(screen.getByTestId("nav-connections"));
    expect(screen.queryByTestId("connection-detail")).toBeNull();
    expect(screen.getAllByTestId("connection-row")).toHaveLength(2);
  });
});

describe("A connection whose provider said where to use its tokens", () => {
  it("shows the address, e.g. Salesforce's instance URL", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([
      connection({ id: "s", name: "Sales", details: { instance_url: "https://acme.my.salesforce.com" } }),
    ]);
    render(App);
    const [row] = await screen.findAllByTestId("connection-row");
    await user.click(within(row!).getByRole("button", { name: "Sales: details" }));
    const fact = await screen.findByTestId("connection-token-detail");
    expect(fact.textContent).toBe("instance url: https://acme.my.salesforce.com");
  });
});
