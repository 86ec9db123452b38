import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";
import { connection, engineError, flowStarted } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

beforeEach(() => ipc.resetIpc());

describe("Connections", () => {
  it("shows the empty state, whose buttons lead to the catalog and to custom providers", async () => {
    const user = userEvent.setup();
    render(App);

    const empty = await screen.findByTestId("empty-state");
    expect(empty.textContent).toContain("Connect your online accounts once");
    // The header says how many there are, none included, once the lists have loaded.
    expect(screen.getByTestId("nav-connections").textContent?.replace(/\s+/g, " ").trim()).toBe("Connections 0");
    expect(empty.textContent).toContain("Tokens stay in your system keychain.");
    expect(screen.getByTestId("nav-connections").getAttribute("aria-current")).toBe("page");

    await user.click(within(empty).getByRole("button", { name: "Browse the catalog" }));
    expect(screen.getByTestId("nav-catalog").getAttribute("aria-current")).toBe("page");
    expect(document.activeElement?.id).toBe("catalog-search");

    await user.click(screen.getByTestId("nav-connections"));
    await user.click(within(await screen.findByTestId("empty-state")).getByRole("button", { name: "Add a custom provider" }));

    expect(screen.getByTestId("nav-providers").getAttribute("aria-current")).toBe("page");
    expect(screen.getByTestId("add-provider-form")).toBeTruthy();
    expect(screen.queryByTestId("empty-state")).toBeNull();
    expect(document.activeElement?.id).toBe("providers-title");
  });

  it("shows the list read before it mounted in its first render, then what the engine has", async () => {
    render(App, { props: { initialConnections: [connection({ name: "Early mail" })] } });
    // No loading placeholder first: the rows are there in the first render.
    expect(screen.queryByTestId("loading")).toBeNull();
    expect(screen.getByTestId("connection-row").textContent).toContain("Early mail");

    // Once subscribed to the engine's events it reads the list again: nothing missed.
    expect(await screen.findByTestId("empty-state")).toBeTruthy();
    expect(ipc.listConnections).toHaveBeenCalled();
  });

  it("says when tokens were refreshed and when they expire in relative words, the date on hover", async () => {
    const minute = 60_000;
    const now = Date.now();
    ipc.listConnections.mockResolvedValue([
      connection({
        last_refreshed_at: new Date(now - 3 * minute).toISOString(),
        expires_at: new Date(now + 57 * minute + 30_000).toISOString(),
      }),
      connection({ id: "conn-2", name: "Old mail", expires_at: new Date(now - 2 * 3600_000).toISOString() }),
    ]);
    render(App);

    const [fresh, old] = (await screen.findAllByTestId("connection-times")) as [HTMLElement, HTMLElement];
    expect(fresh.textContent?.replace(/\s+/g, " ").trim()).toBe(
      "Tokens refreshed 3 minutes ago; the access token expires in 57 minutes",
    );
    const [refreshed] = fresh.querySelectorAll("time");
    expect(refreshed?.getAttribute("datetime")).toBe(new Date(now - 3 * minute).toISOString());
    // Formatted when the pointer comes to it, not before (it would start ICU in the first frame).
    expect(refreshed?.hasAttribute("title")).toBe(false);
    await userEvent.hover(refreshed!);
    expect(refreshed?.getAttribute("title")).toMatch(/\d/);
    expect(old.textContent?.replace(/\s+/g, " ")).toContain("the access token expired 2 hours ago");
  });

  it("reloads on connections_changed and shows status, account and scopes", async () => {
    render(App);
    await screen.findByTestId("empty-state");
    expect(ipc.listConnections).toHaveBeenCalledTimes(1);

    ipc.listConnections.mockResolvedValue([connection()]);
    ipc.emit({ kind: "connections_changed" });

    const row = await screen.findByTestId("connection-row");
    expect(ipc.listConnections).toHaveBeenCalledTimes(2);
    expect(row.dataset.connectionId).toBe("conn-1");
    expect(row.textContent).toContain("Work mail");
    expect(row.textContent).toContain("Local OP");
    expect(within(row).getByTestId("connection-status").textContent?.trim()).toBe("Active");
    expect(within(row).getByTestId("connection-account").textContent).toBe("ada@example.test");
    const scopes = within(row).getByTestId("connection-scopes");
    expect(within(scopes).getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      "openid",
      "email",
      "offline_access",
    ]);
    expect(screen.queryByTestId("empty-state")).toBeNull();
  });

  it("says which connections share a sign-in, and what removal does to it", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([
      connection({ id: "m", name: "Gmail", shared_with: ["Calendar"] }),
      connection({ id: "c", name: "Calendar", shared_with: ["Gmail"] }),
      connection({ id: "w", name: "Work SSO", provider: "Company SSO" }),
    ]);
    render(App);

    const rows = await screen.findAllByTestId("connection-row");
    const [gmail, calendar, work] = rows as [HTMLElement, HTMLElement, HTMLElement];
    expect(within(gmail).getByTestId("connection-shared").textContent).toContain("Same sign-in as Calendar");
    expect(within(calendar).getByTestId("connection-shared").textContent).toContain("Same sign-in as Gmail");
    expect(within(work).queryByTestId("connection-shared")).toBeNull();

    // The detail view says it in full, and again when asking.
    await user.click(within(gmail).getByTestId("connection-open"));
    const detail = await screen.findByTestId("connection-detail");
    expect(within(detail).getByTestId("detail-shared").textContent).toContain("Also used by Calendar");
    expect(within(detail).getByTestId("detail-removal").textContent).toContain(
      "Calendar keeps the sign-in and its tokens, and nothing is revoked at Local OP",
    );
    await user.click(within(detail).getByTestId("connection-remove"));
    expect(within(detail).getByRole("group", { name: /Remove\?/ }).getAttribute("aria-label")).toContain("Calendar keeps the sign-in.");
    // Escape answers No first, and only then leaves the detail view.
    await user.keyboard("{Escape}");
    expect(screen.getByTestId("connection-detail")).toBeTruthy();
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("connection-detail")).toBeNull();

    await user.click(within(screen.getAllByTestId("connection-row")[2]!).getByTestId("connection-open"));
    expect(screen.getByTestId("detail-shared").textContent).toContain("No other connection uses this sign-in");
    expect(screen.getByTestId("detail-removal").textContent).toContain("asks Company SSO to revoke the access it granted");
    await user.click(screen.getByTestId("connection-remove"));
    expect(screen.getByRole("group", { name: /Remove\?/ }).getAttribute("aria-label")).toContain("revoked at Company SSO");
  });

  it("labels every status and offers Reconnect or Grant access where the person must act", async () => {
    ipc.listConnections.mockResolvedValue([
      connection({ id: "a", status: "reauthorize" }),
      connection({ id: "b", status: "needs_more_access", missing_scopes: ["https://www.googleapis.com/auth/gmail.readonly"] }),
      connection({ id: "c", status: "retrying" }),
      connection({ id: "d", status: "pending" }),
    ]);
    render(App);

    const rows = await screen.findAllByTestId("connection-row");
    const labels = rows.map((row) => within(row).getByTestId("connection-status").textContent?.trim());
    expect(labels).toEqual(["Reauthorize", "Needs more access", "Retrying", "Pending"]);
    const reconnects = rows.map((row) => within(row).queryByRole("button", { name: "Reconnect" }) !== null);
    expect(reconnects).toEqual([true, false, false, false]);
    const grants = rows.map((row) => within(row).queryByRole("button", { name: "Grant access" }) !== null);
    expect(grants).toEqual([false, true, false, false]);
    expect(within(rows[1]!).getByTestId("connection-missing").textContent).toContain("gmail.readonly");
  });

  it("Grant access asks for what is missing; in the detail view Test shows who answered and Rename keeps the id", async () => {
    const user = userEvent.setup();
    const needy = connection({ id: "c-9", name: "Mail", status: "needs_more_access", missing_scopes: ["x"] });
    ipc.listConnections.mockResolvedValue([needy]);
    ipc.grantAccess.mockResolvedValue({
      flow_id: "f-2",
      provider_id: "google",
      provider_name: "Google",
      authorize_url: "https://accounts.google.com/o/oauth2/v2/auth?x=1",
      user_code: null,
      expires_at: "2026-11-23T21:00:00Z",
      browser_error: null,
    });
    ipc.testConnection.mockResolvedValueOnce({ connection: "Mail", account: "ada@example.test", url: "https://x", limited: null });
    ipc.testConnection.mockResolvedValueOnce({ connection: "Mail", account: null, url: "https://x", limited: 403 });
    ipc.renameConnection.mockResolvedValue({ ...needy, name: "Work mail" });
    render(App);

    await user.click(await screen.findByRole("button", { name: "Grant access" }));
    expect(ipc.grantAccess).toHaveBeenCalledExactlyOnceWith("c-9");
    expect(await screen.findByTestId("pending-flow")).toBeTruthy();

    await user.click(screen.getByTestId("connection-open"));
    await user.click(screen.getByRole("button", { name: "Test" }));
    expect((await screen.findByTestId("connection-tested")).textContent).toContain("answered for ada@example.test");
    await user.click(screen.getByRole("button", { name: "Test" }));
    await waitFor(() =>
      expect(screen.getByTestId("connection-tested").textContent).toContain("Works, with limited permissions"),
    );

    const input = screen.getByLabelText("Name") as HTMLInputElement;
    expect(input.value).toBe("Mail");
    expect((screen.getByTestId("rename-save") as HTMLButtonElement).disabled).toBe(true);
    await user.clear(input);
    await user.type(input, "Work mail{Enter}");
    expect(ipc.renameConnection).toHaveBeenCalledExactlyOnceWith("c-9", "Work mail");
    expect(await screen.findByRole("heading", { name: "Work mail" })).toBeTruthy();
    expect(input.value).toBe("Work mail");
    expect(document.activeElement).toBe(input);
  });

  it("a refused name says why, at the field", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([connection()]);
    ipc.renameConnection.mockRejectedValue(engineError("invalid_input", "Another connection is called Drive.", "name"));
    render(App);

    await user.click(await screen.findByTestId("connection-open"));
    const input = screen.getByLabelText("Name");
    await user.clear(input);
    await user.type(input, "Drive{Enter}");
    expect((await screen.findByTestId("rename-error")).textContent).toBe("Another connection is called Drive.");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(input.getAttribute("aria-describedby")).toBe("detail-name-error");
  });

  it("Refresh now refreshes through the engine and shows what it says", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([connection({ id: "c-7" })]);
    ipc.refreshConnection.mockRejectedValue(
      engineError("provider_unreachable", "Could not reach sso.example.com: timed out. Check your network connection and try again."),
    );
    render(App);

    await user.click(await screen.findByTestId("connection-open"));
    await user.click(screen.getByRole("button", { name: "Refresh now" }));
    expect(ipc.refreshConnection).toHaveBeenCalledWith("c-7");
    expect((await screen.findByRole("alert")).textContent).toContain("Could not reach sso.example.com");
    expect(screen.getByTestId("connection-status").textContent?.trim()).toBe("Active");
  });

  it("Reconnect signs in again for the same connection id", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([connection({ id: "c-42", status: "reauthorize" })]);
    ipc.reconnect.mockResolvedValue({
      flow_id: "f-1",
      provider_id: "p-1",
      provider_name: "Example SSO",
      authorize_url: "https://sso.example.com/authorize?x=1",
      user_code: null,
      expires_at: "2026-11-23T21:00:00Z",
      browser_error: null,
    });
    render(App);

    await user.click(await screen.findByRole("button", { name: "Reconnect" }));
    expect(ipc.reconnect).toHaveBeenCalledWith("c-42");
    expect(ipc.connect).not.toHaveBeenCalled();
    expect(await screen.findByTestId("pending-flow")).toBeTruthy();
  });

  it("says where to revoke a removed connection whose tokens were gone from the keychain", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([connection()]);
    ipc.removeConnection.mockResolvedValue({
      name: "Work mail",
      provider: "Local OP",
      revocation: "tokens_missing",
      detail: null,
    });
    render(App);

    await user.click(await screen.findByTestId("connection-open"));
    await user.click(screen.getByTestId("connection-remove"));
    await user.click(screen.getByTestId("confirm-remove"));

    await waitFor(() =>
      expect(screen.getByTestId("announcer").textContent).toContain(
        "Removed Work mail. Its tokens were gone from the keychain, so its access could not be revoked; remove it in your account settings at Local OP.",
      ),
    );
  });

  it("starts one sign-in however often Reconnect is pressed while it starts", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([connection({ status: "reauthorize" })]);
    let started: (value: Awaited<ReturnType<typeof ipc.reconnect>>) => void = () => {};
    ipc.reconnect.mockImplementation(() => new Promise((resolve) => (started = resolve)));
    render(App);

    await user.click(await screen.findByTestId("connection-open"));
    const reconnect = screen.getByTestId("connection-reconnect");
    await user.click(reconnect);
    await user.click(reconnect);
    await user.keyboard("{Enter}");
    expect(ipc.reconnect).toHaveBeenCalledTimes(1);
    expect(reconnect.getAttribute("aria-busy")).toBe("true");
    started(flowStarted());
    expect(await screen.findByTestId("pending-flow")).toBeTruthy();
  });

  it("asks before removing a connection, then calls remove_connection and returns to the list", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([connection()]);
    render(App);

    await user.click(await screen.findByTestId("connection-open"));
    await user.click(screen.getByTestId("connection-remove"));
    expect(ipc.removeConnection).not.toHaveBeenCalled();
    expect(screen.getByTestId("confirm-remove").textContent?.trim()).toBe("Yes");

    await user.click(screen.getByRole("button", { name: "No" }));
    expect(screen.queryByTestId("confirm-remove")).toBeNull();
    expect(document.activeElement).toBe(screen.getByTestId("connection-remove"));

    ipc.listConnections.mockResolvedValue([]);
    await user.click(screen.getByTestId("connection-remove"));
    await user.click(screen.getByTestId("confirm-remove"));

    expect(ipc.removeConnection).toHaveBeenCalledExactlyOnceWith("conn-1");
    await screen.findByTestId("empty-state");
    expect(screen.queryByTestId("connection-detail")).toBeNull();
    expect(document.activeElement?.id).toBe("connections-title");
    expect(screen.getByTestId("announcer").textContent).toContain("Removed Work mail");
  });

  it("keeps the connection and says why when removing fails", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([connection()]);
    ipc.removeConnection.mockRejectedValue(engineError("keychain_unavailable", "The system keychain is locked. Unlock it and try again."));
    render(App);

    await user.click(await screen.findByTestId("connection-open"));
    await user.click(screen.getByTestId("connection-remove"));
    await user.click(screen.getByTestId("confirm-remove"));

    const error = await screen.findByTestId("form-error");
    expect(error.textContent).toBe("The system keychain is locked. Unlock it and try again.");
    expect(screen.getByTestId("connection-detail")).toBeTruthy();
  });

  it("the tray's item for a connection opens it with focus on Reconnect; Quit quits", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([
      connection({ id: "ok", name: "Fine" }),
      connection({ id: "broken", name: "Broken", status: "reauthorize" }),
    ]);
    render(App);
    await screen.findAllByTestId("connection-row");
    await user.click(screen.getByTestId("nav-catalog"));

    ipc.showConnectionFromTray("broken");
    await vi.waitFor(() => expect(document.activeElement?.getAttribute("data-testid")).toBe("connection-reconnect"));
    expect(screen.getByTestId("nav-connections").getAttribute("aria-current")).toBe("page");
    const row = document.activeElement?.closest("[data-testid=connection-row]") as HTMLElement;
    expect(row.dataset.connectionId).toBe("broken");

    await user.click(screen.getByTestId("quit"));
    expect(ipc.quit).toHaveBeenCalledOnce();
  });

  it("opens on the connection the tray asked for before the window listened", async () => {
    ipc.listConnections.mockResolvedValue([
      connection({ id: "ok", name: "Fine" }),
      connection({ id: "broken", name: "Broken", status: "reauthorize" }),
    ]);
    ipc.takeConnectionToShow.mockResolvedValueOnce("broken");
    render(App);

    await vi.waitFor(() => expect(document.activeElement?.getAttribute("data-testid")).toBe("connection-reconnect"));
    const row = document.activeElement?.closest("[data-testid=connection-row]") as HTMLElement;
    expect(row.dataset.connectionId).toBe("broken");
  });

  it("warns ahead of time when a provider said the sign-in lapses, and offers Reconnect", async () => {
    const day = 24 * 3600 * 1000;
    ipc.listConnections.mockResolvedValue([
      connection({ id: "soon", name: "Soon", refresh_token_expires_at: new Date(Date.now() + 3 * day).toISOString() }),
      connection({ id: "later", name: "Later", refresh_token_expires_at: new Date(Date.now() + 60 * day).toISOString() }),
    ]);
    render(App);
    const [soon, later] = await screen.findAllByTestId("connection-row");
    expect(within(soon!).getByTestId("connection-lapse").textContent).toContain("Reconnect before that");
    expect(within(soon!).queryByRole("button", { name: "Reconnect" })).not.toBeNull();
    expect(within(later!).queryByTestId("connection-lapse")).toBeNull();
    expect(within(later!).queryByRole("button", { name: "Reconnect" })).toBeNull();
  });
});
