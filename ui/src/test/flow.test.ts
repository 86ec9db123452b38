import { render, screen, waitFor } from "@testing-library/svelte";
import userEvent, { type UserEvent } from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import App from "../App.svelte";
import rowSource from "../components/ConnectionRow.svelte?raw";
import type { ErrorCode } from "../bindings";
import * as ipc from "./fakeIpc";
import { connection, engineError, flowStarted, provider } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

beforeEach(() => {
  ipc.resetIpc();
  ipc.listProviders.mockResolvedValue([provider()]);
  ipc.connect.mockResolvedValue(flowStarted());
});

async function openConnectForm(user: UserEvent) {
  render(App);
  await user.click(screen.getByTestId("nav-providers"));
  await user.click(await screen.findByTestId("provider-connect"));
}

async function startConnect(user: UserEvent, name = "Work mail") {
  await openConnectForm(user);
  const nameInput = screen.getByTestId("connect-name");
  expect(document.activeElement).toBe(nameInput);
  if (name) await user.type(nameInput, name);
  await user.click(screen.getByTestId("connect-start"));
  return screen.findByTestId("pending-flow");
}

function fail(code: ErrorCode, message = "The engine says no.") {
  ipc.emit({ kind: "flow_failed", flow_id: "flow-1", error: engineError(code, message) });
}

describe("Sign-in flow", () => {
  it("shows the pending panel while the browser is open", async () => {
    const user = userEvent.setup();
    const panel = await startConnect(user);

    expect(ipc.connect).toHaveBeenCalledExactlyOnceWith("prov-1", { name: "Work mail", account: null, scopes: [], device: false });
    expect(panel.textContent).toContain("Finish signing in in your browser");
    expect(panel.textContent).toContain("Local OP");
    expect(screen.getByTestId("pending-cancel")).toBeTruthy();
    expect(screen.getByTestId("pending-copy").textContent?.trim()).toBe("Copy link");
    // Still focusable while the sign-in runs, but it starts nothing.
    expect(screen.getByTestId("provider-connect").getAttribute("aria-disabled")).toBe("true");
  });

  it("says the browser could not be opened, with the link to open by hand", async () => {
    const user = userEvent.setup();
    const error = "could not start the browser command “/opt/nowhere/browser”";
    ipc.connect.mockResolvedValue(flowStarted({ browser_error: error }));
    const panel = await startConnect(user);
    expect(panel.querySelector("[data-testid=pending-browser-error]")?.textContent).toContain(`could not open your browser (${error})`);
    expect(panel.textContent).not.toContain("Grantkeeper opened");
    const link = panel.querySelector<HTMLInputElement>(".link-field input");
    expect(link?.value).toBe(flowStarted().authorize_url);
  });

  it("passes null when the connection name is left empty", async () => {
    const user = userEvent.setup();
    await startConnect(user, "");
    expect(ipc.connect).toHaveBeenCalledExactlyOnceWith("prov-1", { name: null, account: null, scopes: [], device: false });
  });

  it("says the person declined when flow_failed carries access_denied", async () => {
    const user = userEvent.setup();
    await startConnect(user);

    fail("access_denied");

    const message = await screen.findByTestId("flow-message");
    expect(message.textContent).toBe("You declined access at Local OP. Nothing was saved.");
    expect(screen.queryByTestId("pending-flow")).toBeNull();
    expect(screen.getByTestId("announcer").textContent).toContain("You declined access");
  });

  // The engine's words: an expired device code says how long it lasted, not 15 minutes.
  it.each([
    ["flow_expired", "The code expired before the sign-in was approved (it lasted 4 seconds). Try again, and approve it sooner."],
    ["provider_error", "The engine says no."],
  ] as const)("explains %s in the engine's words", async (code, text) => {
    const user = userEvent.setup();
    await startConnect(user);
    fail(code, text);
    expect((await screen.findByTestId("flow-message")).textContent).toBe(text);
  });

  it("ignores the end of some other flow", async () => {
    const user = userEvent.setup();
    await startConnect(user);
    ipc.emit({ kind: "flow_failed", flow_id: "other", error: engineError("access_denied", "") });
    await Promise.resolve();
    expect(screen.getByTestId("pending-flow")).toBeTruthy();
    expect(screen.queryByTestId("flow-message")).toBeNull();
  });

  it("cancels through cancel_flow", async () => {
    const user = userEvent.setup();
    await startConnect(user);

    await user.click(screen.getByTestId("pending-cancel"));

    expect(ipc.cancelFlow).toHaveBeenCalledExactlyOnceWith("flow-1");
    expect((await screen.findByTestId("flow-message")).textContent).toBe("Sign-in cancelled.");
    expect(screen.queryByTestId("pending-flow")).toBeNull();
    expect(screen.getByTestId("announcer").textContent).toContain("Sign-in cancelled");
  });

  it("finishes with an address pasted from another device, and says why one is refused", async () => {
    const user = userEvent.setup();
    await startConnect(user);
    await user.click(screen.getByTestId("pending-elsewhere"));
    const field = screen.getByTestId("pending-address");
    await waitFor(() => expect(document.activeElement).toBe(field));
    ipc.answerFlow.mockRejectedValueOnce(
      engineError("invalid_input", "That address belongs to another sign-in.", "address"),
    );
    await user.type(field, "http://127.0.0.1:4000/callback?code=c&state=other");
    await user.click(screen.getByTestId("pending-finish"));

    expect(ipc.answerFlow).toHaveBeenCalledExactlyOnceWith("flow-1", "http://127.0.0.1:4000/callback?code=c&state=other");
    await waitFor(() => expect(document.activeElement).toBe(field));
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByTestId("pending-flow").textContent).toContain("That address belongs to another sign-in.");

    await user.clear(field);
    await user.type(field, "http://127.0.0.1:4000/callback?code=c&state=s");
    await user.click(screen.getByTestId("pending-finish"));
    expect(ipc.answerFlow).toHaveBeenLastCalledWith("flow-1", "http://127.0.0.1:4000/callback?code=c&state=s");
    expect(field.getAttribute("aria-invalid")).toBeNull();
    expect(screen.getByTestId("pending-flow")).toBeTruthy(); // until the engine says the flow ended

    // The next sign-in's panel starts closed again.
    ipc.emit({ kind: "flow_failed", flow_id: "flow-1", error: engineError("flow_cancelled", "Sign-in cancelled.") });
    await waitFor(() => expect(screen.queryByTestId("pending-flow")).toBeNull());
    await user.click(screen.getByTestId("provider-connect"));
    await user.click(screen.getByTestId("connect-start"));
    await screen.findByTestId("pending-flow");
    expect(screen.queryByTestId("pending-address")).toBeNull();
  });

  it("shows why Connect could not start inside the connect form", async () => {
    const user = userEvent.setup();
    ipc.connect.mockRejectedValue(engineError("provider_unreachable", "Local OP could not be reached. Check your network and try again."));
    await openConnectForm(user);
    await user.click(screen.getByTestId("connect-start"));

    const error = await screen.findByTestId("form-error");
    expect(error.textContent).toBe("Local OP could not be reached. Check your network and try again.");
    expect(screen.queryByTestId("pending-flow")).toBeNull();
  });

  it("on flow_completed switches to Connections and highlights the new connection", async () => {
    const user = userEvent.setup();
    await startConnect(user);

    ipc.listConnections.mockResolvedValue([connection()]);
    ipc.emit({ kind: "flow_completed", flow_id: "flow-1", connection_id: "conn-1" });

    const row = await screen.findByTestId("connection-row");
    expect(screen.getByTestId("nav-connections").getAttribute("aria-current")).toBe("page");
    await waitFor(() => expect(row.classList.contains("highlighted")).toBe(true));
    expect(screen.queryByTestId("pending-flow")).toBeNull();
    expect(screen.getByTestId("flow-message").textContent).toBe("Connected Work mail.");
    expect(screen.getByTestId("announcer").textContent).toContain("Connected Work mail");
    await waitFor(() => expect(document.activeElement).toBe(row));
  });

  it("names the new connection even when another reload of the list overtook the flow's own", async () => {
    const user = userEvent.setup();
    await startConnect(user);
    // The flow's reload answers first, but a newer one (a change elsewhere) is still on its way.
    const later = (ms: number) => new Promise<ReturnType<typeof connection>[]>((done) => setTimeout(() => done([connection()]), ms));
    ipc.listConnections.mockImplementationOnce(() => later(10)).mockImplementationOnce(() => later(100));
    ipc.emit({ kind: "flow_completed", flow_id: "flow-1", connection_id: "conn-1" });
    ipc.emit({ kind: "connections_changed" });
    expect((await screen.findByTestId("flow-message")).textContent).toBe("Connected Work mail.");
  });

  it("the Connected notice goes once the connection's status changes, and the change is announced", async () => {
    const user = userEvent.setup();
    await startConnect(user);
    ipc.listConnections.mockResolvedValue([connection()]);
    ipc.emit({ kind: "flow_completed", flow_id: "flow-1", connection_id: "conn-1" });
    await screen.findByTestId("flow-message");

    // Refreshed, still Active: the notice stays true and stays.
    ipc.listConnections.mockResolvedValue([connection({ last_refreshed_at: "2026-11-30T10:00:00Z" })]);
    ipc.emit({ kind: "connections_changed" });
    await waitFor(() => expect(ipc.listConnections).toHaveBeenCalledTimes(3));
    expect(screen.getByTestId("flow-message").textContent).toBe("Connected Work mail.");

    ipc.listConnections.mockResolvedValue([connection({ status: "reauthorize" })]);
    ipc.emit({ kind: "connections_changed" });
    await waitFor(() => expect(screen.queryByTestId("flow-message")).toBeNull());
    expect(screen.getByTestId("connection-status").textContent?.trim()).toBe("Reauthorize");
    expect(screen.getByTestId("announcer").textContent).toContain("Work mail: Reauthorize");
  });

  it("the highlight that points at a row is the accent, not a status colour", () => {
    const rule = /\.highlighted\s*\{([^}]*)\}/.exec(rowSource)?.[1] ?? "";
    expect(rule).toContain("var(--accent");
    expect(rule).not.toMatch(/--(ok|warn|bad)/);
  });

  it("learns how the sign-in ended when its end event was missed", async () => {
    const user = userEvent.setup();
    await startConnect(user);
    ipc.listConnections.mockResolvedValue([connection()]);
    ipc.flowEnd.mockResolvedValue({ kind: "flow_completed", flow_id: "flow-1", connection_id: "conn-1" });
    ipc.emit({ kind: "events_missed" });

    await waitFor(() => expect(screen.getByTestId("flow-message").textContent).toBe("Connected Work mail."));
    expect(ipc.flowEnd).toHaveBeenCalledExactlyOnceWith("flow-1");
    expect(screen.queryByTestId("pending-flow")).toBeNull();
    // The event itself, arriving late after all, ends nothing twice.
    ipc.emit({ kind: "flow_completed", flow_id: "flow-1", connection_id: "conn-1" });
    expect(screen.getByTestId("flow-message").textContent).toBe("Connected Work mail.");
  });

  it("keeps waiting when events were missed but the sign-in still runs", async () => {
    const user = userEvent.setup();
    await startConnect(user);
    ipc.emit({ kind: "events_missed" });
    await waitFor(() => expect(ipc.flowEnd).toHaveBeenCalledExactlyOnceWith("flow-1"));
    expect(screen.getByTestId("pending-flow")).toBeTruthy();
  });

  it("handles a flow that ends before connect has answered", async () => {
    const user = userEvent.setup();
    let answer: (started: ReturnType<typeof flowStarted>) => void = () => {};
    ipc.connect.mockImplementation(() => new Promise((resolve) => (answer = resolve)));
    await openConnectForm(user);
    await user.click(screen.getByTestId("connect-start"));

    fail("access_denied");
    answer(flowStarted());

    expect((await screen.findByTestId("flow-message")).textContent).toContain("You declined access");
    expect(screen.queryByTestId("pending-flow")).toBeNull();
  });
});
