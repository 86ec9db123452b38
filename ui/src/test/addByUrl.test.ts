import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent, { type UserEvent } from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";
import { engineError, flowStarted, integration, MCP_URL, mcpConnection, resourcePlan } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

beforeEach(() => {
  ipc.resetIpc();
  ipc.listCatalog.mockResolvedValue([integration()]);
  ipc.planUrl.mockResolvedValue(resourcePlan());
  ipc.connectUrl.mockResolvedValue(
    flowStarted({ provider_id: "res-1", authorize_url: "https://auth.example.test/authorize?resource=x" }),
  );
});

/** Catalog → Add by URL, with the keyboard in the URL field. */
async function openForm(user: UserEvent): Promise<HTMLElement> {
  render(App);
  await user.click(screen.getByTestId("nav-catalog"));
  await user.click(await screen.findByTestId("add-url-open"));
  const form = screen.getByTestId("add-url-form");
  expect(document.activeElement).toBe(within(form).getByTestId("add-url-url"));
  return form;
}

const text = (element: HTMLElement) => element.textContent?.replace(/\s+/g, " ").trim();

describe("Add by URL", () => {
  it("shows who guards the URL and how Grantkeeper identifies itself, then signs in like any connect", async () => {
    const user = userEvent.setup();
    const form = await openForm(user);
    await user.type(within(form).getByTestId("add-url-url"), MCP_URL);
    await user.type(within(form).getByTestId("add-url-name"), "Tracker");
    await user.click(within(form).getByTestId("add-url-continue"));

    // The plan, before anything opens.
    expect(ipc.planUrl).toHaveBeenCalledExactlyOnceWith(MCP_URL, []);
    const plan = await within(form).findByTestId("resource-plan");
    expect(document.activeElement).toBe(within(plan).getByRole("heading", { name: "Before your browser opens" }));
    expect(text(within(plan).getByTestId("plan-resource"))).toBe(MCP_URL);
    expect(text(within(plan).getByTestId("plan-server"))).toBe("https://auth.example.test");
    expect(text(within(plan).getByTestId("plan-scopes"))).toBe("mcp:tools");
    expect(text(within(plan).getByTestId("plan-identity"))).toBe(
      "It registers itself there as an app on this computer: there is nothing for you to register.",
    );
    // What it sends to a server it has never seen, one click away.
    const metadata = within(plan).getByTestId("plan-metadata");
    expect(metadata.tagName).toBe("DETAILS");
    expect(within(metadata).getByText("What it sends to register")).toBeTruthy();
    expect(JSON.parse(metadata.querySelector("pre")!.textContent!)).toEqual({
      client_name: "Grantkeeper",
      token_endpoint_auth_method: "none",
    });
    expect(ipc.connectUrl).not.toHaveBeenCalled();
    expect(screen.queryByTestId("pending-flow")).toBeNull();

    // Sign in: the pending notice names where the sign-in page is, with Cancel.
    await user.click(within(form).getByTestId("add-url-sign-in"));
    expect(ipc.connectUrl).toHaveBeenCalledExactlyOnceWith(MCP_URL, {
      name: "Tracker",
      scopes: [],
      account: null,
      device: false,
    });
    const pending = await screen.findByTestId("pending-flow");
    expect(pending.textContent).toContain("opened the auth.example.test sign-in page");
    expect(screen.getByTestId("pending-cancel")).toBeTruthy();
    expect(screen.queryByTestId("add-url-form")).toBeNull();
    expect(document.activeElement).toBe(screen.getByTestId("add-url-open"));

    // The engine's event ends it: the new row, marked as an MCP server with its URL.
    ipc.listConnections.mockResolvedValue([mcpConnection()]);
    ipc.emit({ kind: "flow_completed", flow_id: "flow-1", connection_id: "conn-mcp" });
    expect((await screen.findByTestId("flow-message")).textContent).toBe("Connected Tracker.");
    const row = await screen.findByTestId("connection-row");
    expect(within(row).getByTestId("connection-mcp").textContent).toBe("MCP server");
    expect(within(row).getByTestId("connection-resource").textContent).toBe(MCP_URL);
    expect(screen.queryByTestId("pending-flow")).toBeNull();
  });

  it("asks again once the URL or the scopes change, and passes the scopes typed", async () => {
    const user = userEvent.setup();
    const form = await openForm(user);
    await user.type(within(form).getByTestId("add-url-url"), MCP_URL);
    await user.keyboard("{Enter}");
    await within(form).findByTestId("resource-plan");

    await user.type(within(form).getByTestId("add-url-scopes"), "mcp:tools  mcp:admin");
    expect(within(form).queryByTestId("resource-plan")).toBeNull();
    expect(within(form).queryByTestId("add-url-sign-in")).toBeNull();
    ipc.planUrl.mockResolvedValue(resourcePlan({ scopes: ["mcp:tools", "mcp:admin"] }));
    await user.click(within(form).getByTestId("add-url-continue"));
    expect(ipc.planUrl).toHaveBeenLastCalledWith(MCP_URL, ["mcp:tools", "mcp:admin"]);
    const plan = await within(form).findByTestId("resource-plan");
    expect(within(plan).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["mcp:tools", "mcp:admin"]);

    // A new name keeps the plan: it asks the server nothing.
    await user.type(within(form).getByTestId("add-url-name"), "Admin");
    await user.click(within(form).getByTestId("add-url-sign-in"));
    expect(ipc.connectUrl).toHaveBeenCalledExactlyOnceWith(MCP_URL, {
      name: "Admin",
      scopes: ["mcp:tools", "mcp:admin"],
      account: null,
      device: false,
    });
  });

  it("says what the engine refuses next to the field at fault, and the rest above the fields", async () => {
    const user = userEvent.setup();
    const form = await openForm(user);

    // Nothing typed: said here, nothing asked.
    await user.click(within(form).getByTestId("add-url-continue"));
    const url = within(form).getByTestId("add-url-url");
    expect(url.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByText("Enter the URL of the MCP server or API.").id).toBe(url.getAttribute("aria-describedby"));
    expect(ipc.planUrl).not.toHaveBeenCalled();

    const unusable =
      "Grantkeeper cannot connect https://mcp.example.test/mcp: its protected resource metadata names https://other.example.test/mcp";
    ipc.planUrl.mockRejectedValueOnce(engineError("resource_unusable", unusable, "url"));
    await user.type(url, MCP_URL);
    await user.click(within(form).getByTestId("add-url-continue"));
    await waitFor(() => expect(url.getAttribute("aria-describedby")).toContain("error"));
    expect(document.getElementById(url.getAttribute("aria-describedby")!.split(" ")[0]!)!.textContent).toBe(unusable);
    expect(document.activeElement).toBe(url);
    expect(within(form).queryByTestId("resource-plan")).toBeNull();
    // Editing the field takes its message away.
    await user.type(url, "x");
    expect(url.getAttribute("aria-invalid")).toBeNull();

    ipc.planUrl.mockRejectedValueOnce(engineError("invalid_input", "A scope cannot contain quotes.", "scopes"));
    await user.type(within(form).getByTestId("add-url-scopes"), '"x"');
    await user.click(within(form).getByTestId("add-url-continue"));
    const scopes = within(form).getByTestId("add-url-scopes");
    await waitFor(() => expect(scopes.getAttribute("aria-invalid")).toBe("true"));
    expect(within(form).getByText("A scope cannot contain quotes.")).toBeTruthy();
  });

  it("a server that refuses the registration: the reason above the form, and what to do in this window", async () => {
    const user = userEvent.setup();
    const form = await openForm(user);
    await user.type(within(form).getByTestId("add-url-url"), MCP_URL);
    await user.click(within(form).getByTestId("add-url-continue"));
    await within(form).findByTestId("resource-plan");

    const refused =
      "https://auth.example.test did not let Grantkeeper register itself as a client (invalid_client_metadata).";
    ipc.connectUrl.mockRejectedValueOnce(engineError("registration_refused", refused));
    await user.click(within(form).getByTestId("add-url-sign-in"));
    const top = await within(form).findByRole("alert");
    expect(top.textContent).toContain(refused);
    expect(top.textContent).toContain(
      "In this window: under Provider apps, add a provider with the issuer https://auth.example.test",
    );
    expect(document.activeElement).toBe(top);
    expect(screen.queryByTestId("pending-flow")).toBeNull();
    // The plan stays, to try again once a provider app is set.
    expect(within(form).getByTestId("resource-plan")).toBeTruthy();
  });

  it("with no way to identify itself, offers no Sign in and says how to set one up", async () => {
    const user = userEvent.setup();
    ipc.planUrl.mockResolvedValue(resourcePlan({ identity: { kind: "none_available" } }));
    const form = await openForm(user);
    await user.type(within(form).getByTestId("add-url-url"), MCP_URL);
    await user.click(within(form).getByTestId("add-url-continue"));

    const plan = await within(form).findByTestId("resource-plan");
    expect(text(within(plan).getByTestId("plan-identity"))).toContain("signing in cannot work yet");
    expect(plan.textContent).toContain("add it under Provider apps (Add provider, with the issuer https://auth.example.test");
    expect(within(form).queryByTestId("add-url-sign-in")).toBeNull();
    expect(within(form).getByTestId("add-url-continue").textContent?.trim()).toBe("Check again");

    ipc.planUrl.mockResolvedValue(
      resourcePlan({ identity: { kind: "provider_app", provider: "Team SSO", client_id: "gk-desktop" } }),
    );
    await user.click(within(form).getByTestId("add-url-continue"));
    await waitFor(() =>
      expect(text(within(form).getByTestId("plan-identity"))).toBe("With your provider app of Team SSO (client ID gk-desktop)."),
    );
    expect(within(form).getByTestId("add-url-sign-in")).toBeTruthy();
    expect(within(form).queryByTestId("plan-metadata")).toBeNull();
  });

  it("Cancel and Escape close the form, back to its button", async () => {
    const user = userEvent.setup();
    await openForm(user);
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("add-url-form")).toBeNull();
    expect(document.activeElement).toBe(screen.getByTestId("add-url-open"));
    await user.click(screen.getByTestId("add-url-open"));
    await user.click(within(screen.getByTestId("add-url-form")).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByTestId("add-url-form")).toBeNull();
  });
});
