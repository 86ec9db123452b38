// The only module that talks to Tauri; tests replace it at this typed boundary.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { ActivityEvent } from "../bindings/ActivityEvent";
import type { CatalogIntegration } from "../bindings/CatalogIntegration";
import type { CheckResult } from "../bindings/CheckResult";
import type { ConnectOptions } from "../bindings/ConnectOptions";
import type { Connection } from "../bindings/Connection";
import type { EngineEvent } from "../bindings/EngineEvent";
import type { ErrorPayload } from "../bindings/ErrorPayload";
import type { FlowStarted } from "../bindings/FlowStarted";
import type { NewApiKey } from "../bindings/NewApiKey";
import type { NewProvider } from "../bindings/NewProvider";
import type { Provider } from "../bindings/Provider";
import type { ProviderAppInput } from "../bindings/ProviderAppInput";
import type { Removal } from "../bindings/Removal";
import { toErrorPayload } from "./errors";

export const ENGINE_EVENT = "engine-event";

const OUTSIDE_APP: ErrorPayload = {
  code: "internal",
  message: "This page only works inside the Grantkeeper app window. Start the app instead of opening the page in a browser.",
  field: null,
};

// Checked first so that a plain browser (vite dev) shows a sentence rather than a TypeError.
function insideApp(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

/** Invokes a command; a rejection is always an ErrorPayload. */
async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  if (!insideApp()) throw OUTSIDE_APP;
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw toErrorPayload(error);
  }
}

export function listConnections(): Promise<Connection[]> {
  return call("list_connections");
}

export function listCatalog(): Promise<CatalogIntegration[]> {
  return call("list_catalog");
}

export function listProviders(): Promise<Provider[]> {
  return call("list_providers");
}

export function addProvider(input: NewProvider): Promise<Provider> {
  return call("add_provider", { input });
}

/** Creates or changes the provider app of a built-in or custom provider. */
export function setProviderApp(providerId: string, input: ProviderAppInput): Promise<Provider> {
  return call("set_provider_app", { providerId, input });
}

/** `withConnections`: the person confirmed removing the connections that use it. */
export function removeProvider(providerId: string, withConnections = false): Promise<null> {
  return call("remove_provider", { providerId, withConnections });
}

/** Starts a sign-in for an integration (catalog id or custom provider id); the engine opens the system browser itself. */
export function connect(integration: string, options: ConnectOptions): Promise<FlowStarted> {
  return call("connect", { integration, options });
}

/** Asks for exactly the scopes a Needs-more-access connection lacks. */
export function grantAccess(connectionId: string): Promise<FlowStarted> {
  return call("grant_access", { connectionId });
}

export function cancelFlow(flowId: string): Promise<null> {
  return call("cancel_flow", { flowId });
}

export function reconnect(connectionId: string): Promise<FlowStarted> {
  return call("reconnect", { connectionId });
}

export function refreshConnection(connectionId: string): Promise<Connection> {
  return call("refresh_connection", { connectionId });
}

export function listActivity(): Promise<ActivityEvent[]> {
  return call("list_activity");
}

/** The newest events about one connection and its sign-in. */
export function connectionActivity(connectionId: string): Promise<ActivityEvent[]> {
  return call("connection_activity", { connectionId });
}

/** Removes a connection; the answer says whether the provider revoked the grant. */
export function removeConnection(connectionId: string): Promise<Removal> {
  return call("remove_connection", { connectionId });
}

export function renameConnection(connectionId: string, name: string): Promise<Connection> {
  return call("rename_connection", { connectionId, name });
}

/** "Test connection": one cheap request with a fresh token or the key. */
export function testConnection(connectionId: string): Promise<CheckResult> {
  return call("test_connection", { connectionId });
}

/** Saves an API key; the key goes to the keychain and never comes back. */
export function addApiKey(integration: string, input: NewApiKey): Promise<Connection> {
  return call("add_api_key", { integration, input });
}

export function startAtLogin(): Promise<boolean> {
  return call("start_at_login");
}

export function setStartAtLogin(enabled: boolean): Promise<boolean> {
  return call("set_start_at_login", { enabled });
}

/** Quits the app; closing the window only hides it. */
export function quit(): Promise<null> {
  return call("quit");
}

/** The tray menu asks the window to show one connection (its id). */
export async function onShowConnection(handler: (connectionId: string) => void): Promise<() => void> {
  if (!insideApp()) throw OUTSIDE_APP;
  return listen<string>("show-connection", (event) => handler(event.payload));
}

/** Subscribes to the engine's events; resolves to the function that unsubscribes. */
export async function onEngineEvent(handler: (event: EngineEvent) => void): Promise<() => void> {
  if (!insideApp()) throw OUTSIDE_APP;
  return listen<EngineEvent>(ENGINE_EVENT, (event) => handler(event.payload));
}
