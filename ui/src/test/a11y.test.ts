import { render, screen } from "@testing-library/svelte";
import userEvent, { type UserEvent } from "@testing-library/user-event";
import axe from "axe-core";
import { beforeEach, describe, expect, it, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";
import { apiKeyIntegration, connection, integration, MCP_URL, mcpConnection, provider, resourcePlan } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

/** Runs axe on the whole window; fails on any serious or critical violation, naming the rule and where. */
async function expectNoSeriousViolations(): Promise<void> {
  const results = await axe.run(document.body, {
    // jsdom lays nothing out and paints nothing, so axe cannot compute colour contrast there:
    // the rule would report guesses, not findings. contrast.test.ts checks the palette instead.
    rules: { "color-contrast": { enabled: false } },
  });
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = serious.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(report).toEqual([]);
}

beforeEach(() => {
  ipc.resetIpc();
  ipc.listCatalog.mockResolvedValue([integration(), apiKeyIntegration()]);
  ipc.listProviders.mockResolvedValue([
    provider({ id: "google", name: "Google", builtin: true, client_secret_set: true, client_secret_last4: "9xYz" }),
    provider(),
  ]);
  ipc.listActivity.mockResolvedValue([
    { id: "2", at: "2026-11-23T21:00:00Z", kind: "needs_reauthorization", subject: "Work mail", detail: "Local OP said the grant is no longer valid", program: null },
    { id: "1", at: "2026-11-23T20:00:00Z", kind: "credential_created", subject: "Work mail", detail: null, program: null },
  ]);
});

/** Opens a tab and waits until it shows the elements with this test id; returns them. */
async function open(user: UserEvent, tab: string, shown: string): Promise<HTMLElement[]> {
  render(App);
  await user.click(screen.getByTestId(`nav-${tab}`));
  return screen.findAllByTestId(shown);
}

/** Opens Add by URL on the Catalog tab and asks what connecting MCP_URL takes. */
async function askForPlan(user: UserEvent): Promise<void> {
  await open(user, "catalog", "add-url-open");
  await user.click(screen.getByTestId("add-url-open"));
  await user.type(screen.getByTestId("add-url-url"), MCP_URL);
  await user.click(screen.getByTestId("add-url-continue"));
}

describe("Accessibility (axe)", () => {
  it("Connections with Active, Reauthorize and Needs more access rows", async () => {
    ipc.listConnections.mockResolvedValue([
      connection({ id: "a", name: "Work mail", provider_id: "google", provider: "Google" }),
      connection({ id: "b", name: "Drive", status: "reauthorize", status_reason: "Google said the grant was revoked" }),
      connection({ id: "c", name: "Calendar", status: "needs_more_access", missing_scopes: ["calendar.readonly"] }),
    ]);
    render(App);
    await screen.findAllByTestId("connection-row");
    await expectNoSeriousViolations();
  });

  it("a connection's detail view, with its activity and the removal question", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([connection({ shared_with: ["Calendar"] })]);
    ipc.connectionActivity.mockResolvedValue([
      { id: "1", at: "2026-11-23T20:00:00Z", kind: "credential_created", subject: "Work mail", detail: null, program: null },
    ]);
    render(App);
    await user.click(await screen.findByTestId("connection-open"));
    await screen.findAllByTestId("activity-row");
    await user.click(screen.getByTestId("connection-remove"));
    await expectNoSeriousViolations();
  });

  it("a program asking for a token, over a connection's programs", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([connection()]);
    ipc.allowedPrograms.mockResolvedValue([
      { path: "/usr/bin/git", name: "git", allowed_at: "2026-12-01T09:00:00Z", last_used_at: "2026-12-04T09:00:00Z" },
    ]);
    ipc.pendingConsents.mockResolvedValue([
      {
        id: "r",
        connection_id: "conn-1",
        connection_name: "Work mail",
        program: { path: "/usr/bin/python3.11", name: "python3.11", command_line: "python3 sync.py", working_dir: "/home/ada", started_from: "bash" },
        can_allow_always: true,
        asked_at: "2026-12-05T09:00:00Z",
      },
    ]);
    render(App);
    await user.click(await screen.findByTestId("connection-open"));
    await screen.findByTestId("allowed-program");
    await screen.findByTestId("consent-request");
    await expectNoSeriousViolations();
  });

  it("Connections filtered down to nothing", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([connection()]);
    render(App);
    await user.click(await screen.findByRole("radio", { name: /^Pending/ }));
    await screen.findByTestId("connections-no-match");
    await expectNoSeriousViolations();
  });

  it("the empty first-run state", async () => {
    render(App);
    await screen.findByTestId("empty-state");
    await expectNoSeriousViolations();
  });

  it("Catalog", async () => {
    const user = userEvent.setup();
    await open(user, "catalog", "catalog-entry");
    await expectNoSeriousViolations();
  });

  it("Catalog → Add by URL, its plan shown with the registration it sends", async () => {
    const user = userEvent.setup();
    ipc.planUrl.mockResolvedValue(resourcePlan());
    await askForPlan(user);
    await screen.findByTestId("resource-plan");
    await user.click(screen.getByText("What it sends to register"));
    await expectNoSeriousViolations();
  });

  it("Add by URL with an error next to the URL field", async () => {
    const user = userEvent.setup();
    ipc.planUrl.mockRejectedValue({ code: "resource_unusable", message: "Grantkeeper cannot connect it.", field: "url" });
    await askForPlan(user);
    await screen.findByText("Grantkeeper cannot connect it.");
    await expectNoSeriousViolations();
  });

  it("an MCP server's row and its detail view with an AI client's snippet", async () => {
    const user = userEvent.setup();
    ipc.listConnections.mockResolvedValue([mcpConnection(), connection({ id: "b", name: "Work mail" })]);
    render(App);
    await screen.findAllByTestId("connection-mcp");
    await expectNoSeriousViolations();
    await user.click(screen.getAllByTestId("connection-open")[0]!);
    await screen.findByTestId("ai-client-snippet");
    await expectNoSeriousViolations();
  });

  it("Provider apps with a provider app form open", async () => {
    const user = userEvent.setup();
    const [first] = await open(user, "providers", "provider-edit");
    await user.click(first!);
    await screen.findByTestId("provider-app-form");
    await expectNoSeriousViolations();
  });

  it("Activity", async () => {
    const user = userEvent.setup();
    await open(user, "activity", "activity-row");
    await expectNoSeriousViolations();
  });
});
