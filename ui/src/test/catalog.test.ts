import { render, screen, within } from "@testing-library/svelte";
import userEvent, { type UserEvent } from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";
import { apiKeyIntegration, connection, engineError, flowStarted, integration, provider } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

const drive = integration({
  id: "google-drive",
  name: "Google Drive",
  category: "Files",
  description: "Find and download the files in your Google Drive.",
  scopes: [{ name: "drive.readonly", value: "https://www.googleapis.com/auth/drive.readonly", description: "See and download all your Google Drive files" }],
});

beforeEach(() => {
  ipc.resetIpc();
  ipc.listCatalog.mockResolvedValue([integration(), drive, apiKeyIntegration()]);
});

async function openCatalog(user: UserEvent) {
  render(App);
  await user.click(screen.getByTestId("nav-catalog"));
  return screen.findAllByTestId("catalog-entry");
}

function entry(id: string): HTMLElement {
  return screen.getAllByTestId("catalog-entry").find((e) => e.dataset.integrationId === id)!;
}

describe("Catalog", () => {
  it("groups by provider, says in plain words what each may do, and filters as you type", async () => {
    const user = userEvent.setup();
    await openCatalog(user);

    const groups = screen.getAllByRole("heading", { level: 3 }).map((h) => h.textContent);
    // Connecting by URL comes first: it is for whatever the groups below do not list.
    expect(groups).toEqual(["MCP server or API", "Google", "API keys"]);
    expect(within(entry("gmail")).getByTestId("catalog-scopes").textContent).toContain("Read your email messages and settings");

    await user.keyboard("/");
    expect(document.activeElement?.id).toBe("catalog-search");
    await user.keyboard("files");
    expect(screen.getAllByTestId("catalog-entry").map((e) => e.dataset.integrationId)).toEqual(["google-drive"]);
    await user.keyboard("{Control>}a{/Control}zzz");
    expect(screen.getByTestId("catalog-empty").textContent).toContain("Nothing matches");
  });

  it("without a provider app, leads to setting one up with its steps and redirect URI, then connects", async () => {
    const user = userEvent.setup();
    await openCatalog(user);
    expect(within(entry("gmail")).getByTestId("catalog-needs-app")).toBeTruthy();

    await user.click(within(entry("gmail")).getByRole("button", { name: "Set up Google" }));
    const form = screen.getByTestId("provider-app-form");
    expect(within(form).getByTestId("provider-setup-steps").textContent).toContain("Enable the Gmail API");
    expect(within(form).getByTestId("provider-redirect-uri").textContent).toBe("http://127.0.0.1/callback");
    expect(document.activeElement).toBe(within(form).getByTestId("app-client-id"));

    // The engine's word on a field lands on that field.
    ipc.setProviderApp.mockRejectedValueOnce(
      engineError("invalid_input", "Google needs the client secret of your provider app too.", "client_secret"),
    );
    await user.type(within(form).getByTestId("app-client-id"), "123.apps.googleusercontent.com");
    await user.click(within(form).getByTestId("app-save"));
    expect((await within(form).findByTestId("form-error")).textContent).toContain("needs the client secret");
    expect(document.activeElement).toBe(within(form).getByTestId("app-client-secret"));

    ipc.setProviderApp.mockResolvedValueOnce(
      provider({ id: "google", name: "Google", builtin: true, client_id: "123.apps.googleusercontent.com", client_secret_set: true, client_secret_last4: "9d2c" }),
    );
    await user.type(within(form).getByTestId("app-client-secret"), "canary-secret-9d2c");
    await user.click(within(form).getByTestId("app-save"));
    expect(ipc.setProviderApp).toHaveBeenLastCalledWith(
      "google",
      expect.objectContaining({ client_id: "123.apps.googleusercontent.com", client_secret: "canary-secret-9d2c" }),
    );

    // Set up: the Connect form follows, and Connect starts the sign-in for the integration.
    ipc.connect.mockResolvedValue(flowStarted({ provider_id: "google", provider_name: "Google" }));
    await user.click(await within(entry("gmail")).findByTestId("connect-start"));
    expect(ipc.connect).toHaveBeenCalledExactlyOnceWith("gmail", { name: null, account: null, scopes: [], device: false });
    expect((await screen.findByTestId("pending-flow")).textContent).toContain("Google");
  });

  it("adds an API key, showing the service's refusal and never echoing the key", async () => {
    const user = userEvent.setup();
    await openCatalog(user);
    await user.click(within(entry("openai")).getByRole("button", { name: "Add key" }));
    const form = screen.getByTestId("api-key-form");
    const key = within(form).getByTestId("key-field-api_key") as HTMLInputElement;
    expect(key.type).toBe("password");

    ipc.addApiKey.mockRejectedValueOnce(
      engineError(
        "key_rejected",
        "OpenAI rejected this key (HTTP 401). Check that you copied the whole key and that it is still active; nothing was saved.",
      ),
    );
    await user.type(key, "sk-canary-key");
    await user.click(within(form).getByTestId("key-save"));
    const alert = await within(form).findByRole("alert");
    expect(alert.textContent).toContain("rejected this key");
    expect(document.activeElement).toBe(alert);
    expect(document.body.textContent).not.toContain("sk-canary-key");

    ipc.addApiKey.mockResolvedValueOnce(connection({ id: "k-1", name: "OpenAI", integration: "openai", provider: "OpenAI" }));
    await user.click(within(form).getByTestId("key-save"));
    expect(ipc.addApiKey).toHaveBeenLastCalledWith("openai", {
      name: null,
      fields: { api_key: "sk-canary-key" },
      base_url: null,
      check: true,
      replace: null,
    });
    expect(screen.getByTestId("nav-connections").getAttribute("aria-current")).toBe("page");
    expect((await screen.findByTestId("flow-message")).textContent).toContain("Connected OpenAI");
  });
});
