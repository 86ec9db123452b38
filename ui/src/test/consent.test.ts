import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import App from "../App.svelte";
import type { ConsentRequest } from "../bindings";
import * as ipc from "./fakeIpc";
import { connection } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

function request(overrides: Partial<ConsentRequest> = {}): ConsentRequest {
  return {
    id: "req-1",
    connection_id: "conn-1",
    connection_name: "GitHub (work)",
    program: {
      path: "/usr/bin/git",
      name: "git",
      command_line: "git push origin main",
      working_dir: "/home/ada/src/notes",
      started_from: "bash",
    },
    can_allow_always: true,
    asked_at: "2026-12-05T09:00:00Z",
    ...overrides,
  };
}

beforeEach(() => ipc.resetIpc());

describe("A program asks for a token", () => {
  it("says who asks for what, and Allow always answers it", async () => {
    const user = userEvent.setup();
    ipc.pendingConsents.mockResolvedValue([request()]);
    render(App);
    const card = await screen.findByTestId("consent-request");
    expect(card.querySelector("h2")?.textContent?.replace(/\s+/g, " ").trim()).toBe(
      "git wants your GitHub (work) token",
    );
    const who = within(card).getByTestId("consent-program").textContent?.replace(/\s+/g, " ");
    expect(who).toBe("/usr/bin/git, started from bash in /home/ada/src/notes");
    expect(within(card).getByTestId("consent-command-line").textContent?.trim()).toBe("git push origin main");
    await user.click(within(card).getByTestId("consent-allow-always"));
    expect(ipc.answerConsent).toHaveBeenCalledWith("req-1", "allow_always");
    expect(screen.queryByTestId("consent-request")).toBeNull();
  });

  it("shows a command line that is only the program's path once", async () => {
    const program = { ...request().program, path: "/opt/sync/run", name: "run", command_line: "/opt/sync/run" };
    ipc.pendingConsents.mockResolvedValue([request({ program })]);
    render(App);
    const card = await screen.findByTestId("consent-request");
    expect(within(card).getByTestId("consent-program").textContent).toContain("/opt/sync/run");
    expect(within(card).queryByTestId("consent-command-line")).toBeNull();
    expect(card.textContent?.split("/opt/sync/run")).toHaveLength(2);
  });

  it("follows the engine: a request comes and, answered elsewhere or given up, goes", async () => {
    const user = userEvent.setup();
    render(App);
    await waitFor(() => expect(ipc.pendingConsents).toHaveBeenCalled());
    ipc.emit({ kind: "consent_requested", request: request({ id: "a", can_allow_always: false }) });
    const card = await screen.findByTestId("consent-request");
    expect(within(card).queryByTestId("consent-allow-always")).toBeNull();
    ipc.emit({ kind: "consent_ended", id: "a" });
    await waitFor(() => expect(screen.queryByTestId("consent-request")).toBeNull());

    ipc.emit({ kind: "consent_requested", request: request({ id: "b" }) });
    ipc.answerConsent.mockRejectedValueOnce({ code: "not_found", message: "No request for a token named “b”.", field: null });
    await user.click(await screen.findByTestId("consent-deny"));
    expect(ipc.answerConsent).toHaveBeenCalledWith("b", "deny");
    expect((await screen.findByTestId("consent-error")).textContent).toContain("No request for a token");
  });

  it("a question that goes does not pass a click meant for it to the one moving up", async () => {
    const user = userEvent.setup();
    ipc.pendingConsents.mockResolvedValue([request({ id: "first" }), request({ id: "second", program: { ...request().program, name: "curl" } })]);
    render(App);
    expect(await screen.findAllByTestId("consent-request")).toHaveLength(2);
    ipc.emit({ kind: "consent_ended", id: "first" });
    await waitFor(() => expect(screen.getAllByTestId("consent-request")).toHaveLength(1));
    const allow = screen.getByTestId("consent-allow-once") as HTMLButtonElement;
    expect(allow.disabled).toBe(true);
    await user.click(allow);
    expect(ipc.answerConsent).not.toHaveBeenCalled();
    await waitFor(() => expect(allow.disabled).toBe(false));
    await user.click(allow);
    expect(ipc.answerConsent).toHaveBeenCalledWith("second", "allow_once");
  });

  it("reads the questions again when events were missed", async () => {
    ipc.pendingConsents.mockResolvedValue([request({ id: "gone meanwhile" })]);
    render(App);
    expect(await screen.findAllByTestId("consent-request")).toHaveLength(1);
    ipc.pendingConsents.mockResolvedValue([request({ id: "new", connection_name: "Mail" })]);
    ipc.emit({ kind: "events_missed" });
    await waitFor(() => expect(screen.getByTestId("consent-request").textContent).toContain("Mail"));
    expect(screen.getAllByTestId("consent-request")).toHaveLength(1);
  });

  it("a connection lists the programs allowed always, each revocable, and how it asks", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([connection()]);
    ipc.allowedPrograms.mockResolvedValue([
      { path: "/usr/bin/git", name: "git", allowed_at: "2026-12-01T09:00:00Z", last_used_at: null },
    ]);
    ipc.setConsentPolicy.mockResolvedValue(connection({ consent: "ask_every_time" }));
    render(App);
    await user.click(await screen.findByTestId("connection-open"));
    const programs = await screen.findByTestId("connection-programs");
    const allowed = await within(programs).findByTestId("allowed-program");
    expect(allowed.textContent).toContain("/usr/bin/git");
    expect(allowed.textContent).toContain("not used yet");
    await user.click(within(allowed).getByTestId("revoke-program"));
    expect(ipc.revokeProgram).toHaveBeenCalledWith("conn-1", "/usr/bin/git");
    expect((within(programs).getByTestId("consent-policy-once_per_program") as HTMLInputElement).checked).toBe(true);
    await user.click(within(programs).getByTestId("consent-policy-ask_every_time"));
    expect(ipc.setConsentPolicy).toHaveBeenCalledWith("conn-1", "ask_every_time");
  });

  it("Require the app is a switch in the footer", async () => {
    const user = userEvent.setup();
    render(App);
    const box = (await screen.findByTestId("require-app")) as HTMLInputElement;
    await waitFor(() => expect(ipc.requireApp).toHaveBeenCalled());
    expect(box.checked).toBe(false);
    await user.click(box);
    expect(ipc.setRequireApp).toHaveBeenCalledWith(true);
  });
});

describe("Programs in the window", () => {
  it("a row says who used the connection, and Activity shows one program's hand-outs", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([
      connection({ used_by: ["/usr/bin/git", "/usr/bin/curl"], last_handed_out_at: new Date().toISOString() }),
    ]);
    const event = (id: string, program: string | null) =>
      ({ id, at: "2026-12-05T09:00:00Z", kind: "token_handed_out", subject: "Work mail", detail: `${id}: allowed once`, program }) as const;
    ipc.listActivity.mockResolvedValue([event("git", "/usr/bin/git"), event("curl", "/usr/bin/curl"), event("other", null)]);
    render(App);
    expect((await screen.findByTestId("connection-used")).textContent).toMatch(/^Used by git and 1 other · /);

    await user.click(screen.getByTestId("nav-activity"));
    expect(await screen.findAllByTestId("activity-row")).toHaveLength(3);
    await user.selectOptions(screen.getByTestId("activity-program"), "/usr/bin/curl");
    const rows = screen.getAllByTestId("activity-row");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.textContent).toContain("curl: allowed once");
  });
});

describe("Hand-outs in a row", () => {
  it("read the connections again once, not once per hand-out", async () => {
    ipc.listConnections.mockResolvedValue([connection()]);
    render(App);
    await screen.findByTestId("connection-row");
    const before = ipc.listConnections.mock.calls.length;
    ipc.listConnections.mockResolvedValue([
      connection({ used_by: ["/usr/bin/git"], last_handed_out_at: new Date().toISOString() }),
    ]);
    for (let i = 0; i < 50; i += 1) ipc.emit({ kind: "token_handed_out", connection_id: "c1" });
    expect((await screen.findByTestId("connection-used", {}, { timeout: 3000 })).textContent).toMatch(/^Used by git · /);
    expect(ipc.listConnections.mock.calls.length - before).toBe(1);
  });
});
