import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "./ipc";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

const invokeMock = vi.mocked(invoke);

beforeEach(() => {
  Object.assign(window, { __TAURI_INTERNALS__: {} });
  invokeMock.mockReset().mockResolvedValue(null);
});

afterEach(() => {
  delete (window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__;
});

describe("ipc", () => {
  it("takes the list the app put into the page once, and asks for nothing", () => {
    const list = [{ id: "c" }] as unknown as NonNullable<Window["__GRANTKEEPER_FIRST_CONNECTIONS__"]>;
    window.__GRANTKEEPER_FIRST_CONNECTIONS__ = list;
    expect(ipc.firstConnections()).toBe(list);
    expect(ipc.firstConnections()).toBeNull();
    expect(invokeMock).not.toHaveBeenCalled();
  });

  it("uses the contract's command names and camelCase argument keys", async () => {
    const input = {
      name: "A",
      issuer: "https://a.test",
      authorize_url: null,
      token_url: null,
      client_id: "id",
      client_secret: null,
      client_auth: null,
      scopes: ["openid"],
    };
    await ipc.commands.listConnections();
    await ipc.commands.listProviders();
    await ipc.commands.addProvider(input);
    await ipc.commands.removeProvider("p", false);
    await ipc.commands.connect("gmail", { name: null, account: "ada@example.test", scopes: [], device: false });
    await ipc.commands.grantAccess("c");
    await ipc.commands.setProviderApp("google", { client_id: "id", client_secret: null, client_auth: null, enabled: null, site: null, authorize_url: null, token_url: null, revocation_url: null, userinfo_url: null, jwks_url: null, device_authorization_url: null });
    await ipc.commands.cancelFlow("f");
    await ipc.commands.removeConnection("c");

    expect(invokeMock.mock.calls).toEqual([
      ["list_connections"],
      ["list_providers"],
      ["add_provider", { input }],
      ["remove_provider", { providerId: "p", withConnections: false }],
      ["connect", { integration: "gmail", options: { name: null, account: "ada@example.test", scopes: [], device: false } }],
      ["grant_access", { connectionId: "c" }],
      ["set_provider_app", { providerId: "google", input: expect.objectContaining({ client_id: "id" }) }],
      ["cancel_flow", { flowId: "f" }],
      ["remove_connection", { connectionId: "c" }],
    ]);
  });

  it("passes an ErrorPayload through and wraps anything else", async () => {
    const payload = { code: "not_found", message: "No such provider.", field: null };
    invokeMock.mockRejectedValueOnce(payload);
    await expect(ipc.commands.removeProvider("p", false)).rejects.toEqual(payload);

    invokeMock.mockRejectedValueOnce("command remove_provider not found");
    await expect(ipc.commands.removeProvider("p", false)).rejects.toMatchObject({ code: "internal", field: null });
  });

  it("hands the event payload to the handler", async () => {
    const unlisten = vi.fn();
    vi.mocked(listen).mockImplementation(async (_name, callback) => {
      callback({ event: "engine-event", id: 1, payload: { kind: "providers_changed" } });
      return unlisten;
    });
    const handler = vi.fn();

    expect(await ipc.onEngineEvent(handler)).toBe(unlisten);
    expect(listen).toHaveBeenCalledWith("engine-event", expect.any(Function));
    expect(handler).toHaveBeenCalledWith({ kind: "providers_changed" });
  });

  it("says so when the page runs outside the app", async () => {
    delete (window as { __TAURI_INTERNALS__?: unknown }).__TAURI_INTERNALS__;
    await expect(ipc.commands.listProviders()).rejects.toMatchObject({ code: "internal" });
    expect(invokeMock).not.toHaveBeenCalled();
  });
});
