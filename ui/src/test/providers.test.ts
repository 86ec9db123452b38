import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent, { type UserEvent } from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";
import { engineError, provider } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

beforeEach(() => ipc.resetIpc());

async function openProviders(user: UserEvent) {
  render(App);
  await user.click(screen.getByTestId("nav-providers"));
  return screen.findByTestId("add-provider-form");
}

function input(testid: string): HTMLInputElement {
  return screen.getByTestId(testid) as HTMLInputElement;
}

async function fill(user: UserEvent, testid: string, text: string) {
  await user.clear(input(testid));
  await user.type(input(testid), text);
}

/** Types each value, in order, into the field whose test id is `provider-` and its key, then presses Add provider. */
async function submitProvider(user: UserEvent, values: Record<string, string>) {
  for (const [field, text] of Object.entries(values)) await fill(user, `provider-${field}`, text);
  await user.click(screen.getByTestId("provider-save"));
}

/** A provider found by its issuer: what most tests type. */
const LOCAL_OP = { name: "Local OP", issuer: "https://op.example.test", "client-id": "grantkeeper-test" };

describe("Add provider", () => {
  it("sends an issuer provider with scopes split on whitespace and no secret", async () => {
    const user = userEvent.setup();
    ipc.addProvider.mockResolvedValue(provider());
    await openProviders(user);

    expect(input("provider-scopes").value).toBe("openid email offline_access");
    expect(input("provider-mode-issuer").checked).toBe(true);
    expect(input("provider-client-secret").type).toBe("password");
    expect(input("provider-client-secret").autocomplete).toBe("off");

    await submitProvider(user, { ...LOCAL_OP, scopes: "  openid   email offline_access " });

    expect(ipc.addProvider).toHaveBeenCalledExactlyOnceWith({
      name: "Local OP",
      issuer: "https://op.example.test",
      authorize_url: null,
      token_url: null,
      client_id: "grantkeeper-test",
      client_secret: null,
      client_auth: null,
      scopes: ["openid", "email", "offline_access"],
    });
    const row = await screen.findByTestId("provider-row");
    expect(row.dataset.providerId).toBe("prov-1");
    expect(row.textContent).toContain("no client secret");
    // The form starts over for the next provider.
    expect(input("provider-name").value).toBe("");
    expect(input("provider-issuer").value).toBe("");
    expect(input("provider-scopes").value).toBe("openid email offline_access");
  });

  it("sends manual URLs and the secret, then shows it is set but never shows it", async () => {
    const user = userEvent.setup();
    ipc.addProvider.mockResolvedValue(
      provider({
        id: "prov-2",
        name: "Manual",
        issuer: null,
        authorize_url: "https://auth.example.test/authorize",
        // Too short for its last four characters to be shown.
        client_secret_set: true,
        client_secret_last4: null,
      }),
    );
    await openProviders(user);

    await fill(user, "provider-name", "Manual");
    await user.click(input("provider-mode-manual"));
    expect(screen.queryByTestId("provider-issuer")).toBeNull();
    await submitProvider(user, {
      "authorize-url": "https://auth.example.test/authorize",
      "token-url": "https://auth.example.test/token",
      "client-id": "abc",
      "client-secret": "s3cret",
      scopes: "read\twrite",
    });

    expect(ipc.addProvider).toHaveBeenCalledExactlyOnceWith({
      name: "Manual",
      issuer: null,
      authorize_url: "https://auth.example.test/authorize",
      token_url: "https://auth.example.test/token",
      client_id: "abc",
      client_secret: "s3cret",
      client_auth: null,
      scopes: ["read", "write"],
    });
    const row = await screen.findByTestId("provider-row");
    expect(row.textContent).toContain("set (••••)");
    expect(row.textContent).not.toContain("no client secret");
    expect(row.textContent).toContain("auth.example.test");
    expect(row.textContent).not.toContain("s3cret");
    expect(input("provider-client-secret").value).toBe("");
  });

  it("checks required fields before calling the engine", async () => {
    const user = userEvent.setup();
    await openProviders(user);

    await user.click(screen.getByTestId("provider-save"));

    expect(ipc.addProvider).not.toHaveBeenCalled();
    const errors = screen.getAllByTestId("form-error").map((e) => e.textContent);
    expect(errors).toEqual([
      "Enter a name for this provider.",
      "Enter the provider's OpenID issuer URL.",
      "Enter the client ID of your provider app.",
    ]);
    expect(document.activeElement).toBe(input("provider-name"));
  });

  it("shows the engine's error next to the field it names and keeps what was typed", async () => {
    const user = userEvent.setup();
    ipc.addProvider.mockRejectedValue(engineError("discovery_failed", "No OpenID configuration at this issuer. Check the URL.", "issuer"));
    await openProviders(user);

    await submitProvider(user, { ...LOCAL_OP, issuer: "https://wrong.example.test", "client-secret": "typed-secret" });

    const issuer = input("provider-issuer");
    const error = await screen.findByTestId("form-error");
    expect(error.textContent).toBe("No OpenID configuration at this issuer. Check the URL.");
    expect(issuer.parentElement?.contains(error)).toBe(true);
    expect(issuer.getAttribute("aria-describedby")).toContain(error.id);
    expect(issuer.getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(issuer);
    expect(issuer.value).toBe("https://wrong.example.test");
    expect(input("provider-name").value).toBe("Local OP");
    expect(input("provider-client-id").value).toBe("grantkeeper-test");
    expect(input("provider-client-secret").value).toBe("typed-secret");
    expect(screen.queryByTestId("provider-row")).toBeNull();
  });

  it("shows an error without a field at the top of the form", async () => {
    const user = userEvent.setup();
    ipc.addProvider.mockRejectedValue(engineError("keychain_unavailable", "The system keychain is locked. Unlock it and try again."));
    await openProviders(user);

    await submitProvider(user, LOCAL_OP);

    const form = screen.getByTestId("add-provider-form");
    const error = await within(form).findByRole("alert");
    expect(error.textContent?.trim()).toBe("The system keychain is locked. Unlock it and try again.");
    expect(error.dataset.testid).toBe("form-error");
    expect(document.activeElement).toBe(error);
  });

  it("turns a bare string rejection into a sentence, not a dump", async () => {
    const user = userEvent.setup();
    ipc.addProvider.mockRejectedValue("command add_provider not allowed");
    await openProviders(user);

    await submitProvider(user, LOCAL_OP);

    const error = await screen.findByTestId("form-error");
    expect(error.textContent).toContain("command add_provider not allowed");
    expect(error.textContent).toContain("try again");
  });
});

describe("Provider list", () => {
  it("removes a provider after confirmation", async () => {
    const user = userEvent.setup();
    ipc.listProviders.mockResolvedValue([provider()]);
    await openProviders(user);

    await user.click(await screen.findByTestId("provider-remove"));
    await user.click(screen.getByTestId("confirm-remove"));

    expect(ipc.removeProvider).toHaveBeenCalledExactlyOnceWith("prov-1", false);
    expect(screen.queryByTestId("provider-row")).toBeNull();
  });

  it("says which connections keep the previous address until they are reconnected", async () => {
    const user = userEvent.setup();
    ipc.listProviders.mockResolvedValue([provider({ connections: 2, on_previous_addresses: ["Work"] })]);
    await openProviders(user);
    const note = await screen.findByTestId("provider-previous-addresses");
    expect(note.textContent).toContain("“Work” keeps using the previous address until reconnected");
    expect(note.textContent).toContain("Reconnect to use the new one");
  });

  it("lists the documentation a catalog provider's facts come from", async () => {
    const user = userEvent.setup();
    const sources = { checked: "2026-12", urls: ["https://docs.github.com/en/apps/oauth-apps"] };
    ipc.listProviders.mockResolvedValue([provider({ id: "github", name: "GitHub", builtin: true, sources })]);
    await openProviders(user);
    const shown = await screen.findByTestId("provider-sources");
    expect(shown.textContent).toContain("checked 2026-12");
    expect(shown.textContent).toContain("https://docs.github.com/en/apps/oauth-apps");
  });

  it("marks a provider app an organisation supplied, and offers no way to change it", async () => {
    const user = userEvent.setup();
    ipc.listProviders.mockResolvedValue([
      provider({ id: "github", name: "GitHub", builtin: true, supplied_from: "/etc/grantkeeper/provider-apps.toml" }),
    ]);
    await openProviders(user);
    const row = await screen.findByTestId("provider-row");
    expect(within(row).getByTestId("provider-supplied").textContent).toContain("Provided by your organisation");
    expect(within(row).getByTestId("provider-supplied-note").textContent).toContain("/etc/grantkeeper/provider-apps.toml");
    expect(within(row).queryByTestId("provider-edit")).toBeNull();
    expect(within(row).queryByRole("button", { name: /Remove/ })).toBeNull();
  });

  it("shows what a provider app needs when the provider rejected its credentials", async () => {
    const user = userEvent.setup();
    ipc.listProviders.mockResolvedValue([
      provider({ attention: "Google rejected Grantkeeper's client credentials (invalid_client). Check the provider app's client ID and secret; the tokens were kept." }),
    ]);
    await openProviders(user);
    expect((await screen.findByTestId("provider-attention")).textContent).toContain("Check the provider app's client ID and secret");
  });
});

describe("Provider app endpoints", () => {
  async function editApp(user: UserEvent) {
    await user.click(await screen.findByTestId("provider-edit"));
    const form = screen.getByTestId("provider-app-form");
    await user.click(within(form).getByText("Endpoints and client authentication (for self-hosted or regional servers)"));
    return form;
  }

  const noChanges = {
    client_id: "grantkeeper-test",
    client_secret: null,
    client_auth: null,
    enabled: true,
    site: null,
    authorize_url: null,
    token_url: null,
    revocation_url: null,
    userinfo_url: null,
    jwks_url: null,
    device_authorization_url: null,
  };

  it("sends a changed client authentication and shows it on a custom provider's row", async () => {
    const user = userEvent.setup();
    ipc.listProviders.mockResolvedValue([provider()]);
    ipc.setProviderApp.mockResolvedValueOnce(provider({ client_auth: "post" }));
    await openProviders(user);
    expect((await screen.findByTestId("provider-client-auth")).textContent).toContain("HTTP Basic");

    const form = await editApp(user);
    const select = within(form).getByLabelText("Client authentication") as HTMLSelectElement;
    expect(select.value).toBe("basic");
    await user.selectOptions(select, "post");
    await user.click(within(form).getByTestId("app-save"));
    expect(ipc.setProviderApp).toHaveBeenLastCalledWith("prov-1", { ...noChanges, client_auth: "post" });
    await waitFor(() =>
      expect(screen.getByTestId("provider-client-auth").textContent).toContain("client_secret_post"),
    );
  });

  it("sends a typed signing keys (JWKS) URL like the other endpoints, and null when blank", async () => {
    const user = userEvent.setup();
    ipc.listProviders.mockResolvedValue([provider()]);
    ipc.setProviderApp.mockResolvedValueOnce(provider());
    await openProviders(user);

    let form = await editApp(user);
    await user.click(within(form).getByTestId("app-save"));
    expect(ipc.setProviderApp.mock.lastCall![1]).toEqual(noChanges);
    await waitFor(() => expect(screen.queryByTestId("provider-app-form")).toBeNull());
    expect(screen.queryByTestId("provider-overridden")).toBeNull();

    ipc.setProviderApp.mockResolvedValueOnce(
      provider({ overridden: ["jwks_url"], jwks_url: "https://keys.example.test/jwks" }),
    );
    form = await editApp(user);
    const jwks = within(form).getByLabelText(/Signing keys \(JWKS\) URL/) as HTMLInputElement;
    expect(jwks.type).toBe("url");
    expect(jwks.placeholder).toBe("The provider's own");
    expect(jwks.getAttribute("aria-describedby")).toContain("-help");
    await user.type(jwks, " https://keys.example.test/jwks ");
    await user.click(within(form).getByTestId("app-save"));
    expect(ipc.setProviderApp).toHaveBeenLastCalledWith("prov-1", { ...noChanges, jwks_url: "https://keys.example.test/jwks" });
    expect((await screen.findByTestId("provider-overridden")).textContent).toContain(
      "Endpoints set by hand: signing keys (JWKS)",
    );
  });

  it("shows a JWKS URL set by hand, clears it when emptied, and shows the engine's error next to it", async () => {
    const user = userEvent.setup();
    const existing = provider({
      overridden: ["token_url", "jwks_url"],
      token_url: "https://op.example.test/custom-token",
      jwks_url: "https://op.example.test/custom-keys",
    });
    ipc.listProviders.mockResolvedValue([existing]);
    await openProviders(user);
    expect((await screen.findByTestId("provider-overridden")).textContent).toContain(
      "Endpoints set by hand: token, signing keys (JWKS)",
    );

    await user.click(screen.getByTestId("provider-edit"));
    const form = screen.getByTestId("provider-app-form");
    const jwks = within(form).getByTestId("app-jwks_url") as HTMLInputElement;
    expect(jwks.value).toBe("https://op.example.test/custom-keys");

    ipc.setProviderApp.mockRejectedValueOnce(engineError("invalid_input", "The JWKS URL must start with https://.", "jwks_url"));
    await user.clear(jwks);
    await user.type(jwks, "http://keys.example.test/jwks");
    await user.click(within(form).getByTestId("app-save"));
    const error = await within(form).findByTestId("form-error");
    expect(error.textContent).toBe("The JWKS URL must start with https://.");
    expect(jwks.getAttribute("aria-describedby")).toContain(error.id);
    expect(jwks.getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(jwks);

    // Emptied: back to the provider's own, like the other endpoints ("" clears).
    ipc.setProviderApp.mockResolvedValueOnce(existing);
    await user.clear(jwks);
    await user.click(within(form).getByTestId("app-save"));
    expect(ipc.setProviderApp.mock.lastCall![1]).toEqual({
      ...noChanges,
      token_url: "https://op.example.test/custom-token",
      jwks_url: "",
    });
  });
});
