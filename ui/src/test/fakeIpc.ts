// Stands in for src/lib/ipc.ts: the same exports, as mocks (each command also exported
// by name, for tests to program), plus `emit` for engine events.
import { vi } from "vitest";
import type { EngineEvent } from "../bindings";
import type * as Ipc from "../lib/ipc";
import { aiClientSnippet } from "./fixtures";

type Commands = typeof Ipc.commands;

export const listConnections = vi.fn<Commands["listConnections"]>();
export const listProviders = vi.fn<Commands["listProviders"]>();
export const listCatalog = vi.fn<Commands["listCatalog"]>();
export const setProviderApp = vi.fn<Commands["setProviderApp"]>();
export const grantAccess = vi.fn<Commands["grantAccess"]>();
export const renameConnection = vi.fn<Commands["renameConnection"]>();
export const testConnection = vi.fn<Commands["testConnection"]>();
export const addApiKey = vi.fn<Commands["addApiKey"]>();
export const addProvider = vi.fn<Commands["addProvider"]>();
export const removeProvider = vi.fn<Commands["removeProvider"]>();
export const connect = vi.fn<Commands["connect"]>();
export const planUrl = vi.fn<Commands["planUrl"]>();
export const connectUrl = vi.fn<Commands["connectUrl"]>();
export const aiClientConfig = vi.fn<Commands["aiClientConfig"]>();
export const reconnect = vi.fn<Commands["reconnect"]>();
export const refreshConnection = vi.fn<Commands["refreshConnection"]>();
export const listActivity = vi.fn<Commands["listActivity"]>();
export const connectionActivity = vi.fn<Commands["connectionActivity"]>();
export const cancelFlow = vi.fn<Commands["cancelFlow"]>();
export const answerFlow = vi.fn<Commands["answerFlow"]>();
export const flowEnd = vi.fn<Commands["flowEnd"]>();
export const removeConnection = vi.fn<Commands["removeConnection"]>();
export const onEngineEvent = vi.fn<typeof Ipc.onEngineEvent>();
export const firstScreenShown = vi.fn<Commands["firstScreenShown"]>();
export const takeConnectionToShow = vi.fn<Commands["takeConnectionToShow"]>();
export const quit = vi.fn<Commands["quit"]>();
export const startAtLogin = vi.fn<Commands["startAtLogin"]>();
export const setStartAtLogin = vi.fn<Commands["setStartAtLogin"]>();
export const onShowConnection = vi.fn<typeof Ipc.onShowConnection>();
export const firstConnections = vi.fn<typeof Ipc.firstConnections>();
export const pendingConsents = vi.fn<Commands["pendingConsents"]>();
export const answerConsent = vi.fn<Commands["answerConsent"]>();
export const allowedPrograms = vi.fn<Commands["allowedPrograms"]>();
export const revokeProgram = vi.fn<Commands["revokeProgram"]>();
export const setConsentPolicy = vi.fn<Commands["setConsentPolicy"]>();
export const requireApp = vi.fn<Commands["requireApp"]>();
export const setRequireApp = vi.fn<Commands["setRequireApp"]>();

export const commands: Commands = {
  listConnections,
  listProviders,
  listCatalog,
  setProviderApp,
  grantAccess,
  renameConnection,
  testConnection,
  addApiKey,
  addProvider,
  removeProvider,
  connect,
  planUrl,
  connectUrl,
  aiClientConfig,
  reconnect,
  refreshConnection,
  listActivity,
  connectionActivity,
  cancelFlow,
  answerFlow,
  flowEnd,
  removeConnection,
  firstScreenShown,
  takeConnectionToShow,
  quit,
  startAtLogin,
  setStartAtLogin,
  pendingConsents,
  answerConsent,
  allowedPrograms,
  revokeProgram,
  setConsentPolicy,
  requireApp,
  setRequireApp,
};

let handlers: ((event: EngineEvent) => void)[] = [];
let showConnectionHandlers: ((connectionId: string) => void)[] = [];

/** As if the tray menu's item for this connection was clicked. */
export function showConnectionFromTray(connectionId: string): void {
  for (const handler of showConnectionHandlers) handler(connectionId);
}

export function emit(event: EngineEvent): void {
  for (const handler of handlers) handler(event);
}

/** Empty lists, and every command resolves; tests override what they need. */
export function resetIpc(): void {
  handlers = [];
  showConnectionHandlers = [];
  listConnections.mockReset().mockResolvedValue([]);
  firstConnections.mockReset().mockReturnValue(null);
  listProviders.mockReset().mockResolvedValue([]);
  listCatalog.mockReset().mockResolvedValue([]);
  setProviderApp.mockReset();
  grantAccess.mockReset();
  renameConnection.mockReset();
  testConnection.mockReset();
  addApiKey.mockReset();
  addProvider.mockReset();
  removeProvider.mockReset().mockResolvedValue(null);
  connect.mockReset();
  planUrl.mockReset();
  connectUrl.mockReset();
  aiClientConfig.mockReset().mockImplementation(async (connectionId, client) => aiClientSnippet(connectionId, client));
  reconnect.mockReset();
  refreshConnection.mockReset();
  listActivity.mockReset().mockResolvedValue([]);
  connectionActivity.mockReset().mockResolvedValue([]);
  cancelFlow.mockReset().mockResolvedValue(null);
  answerFlow.mockReset().mockResolvedValue(null);
  flowEnd.mockReset().mockResolvedValue(null);
  removeConnection
    .mockReset()
    .mockImplementation(async () => ({ name: "Work mail", provider: "Local OP", revocation: "revoked", detail: null }));
  firstScreenShown.mockReset().mockResolvedValue(undefined);
  takeConnectionToShow.mockReset().mockResolvedValue(null);
  quit.mockReset().mockResolvedValue(undefined);
  startAtLogin.mockReset().mockResolvedValue(false);
  setStartAtLogin.mockReset().mockImplementation(async (enabled) => enabled);
  pendingConsents.mockReset().mockResolvedValue([]);
  answerConsent.mockReset().mockResolvedValue(null);
  allowedPrograms.mockReset().mockResolvedValue([]);
  revokeProgram.mockReset().mockResolvedValue(null);
  setConsentPolicy.mockReset().mockImplementation(async () => {
    throw new Error("setConsentPolicy: not set up by this test");
  });
  requireApp.mockReset().mockResolvedValue(false);
  setRequireApp.mockReset().mockResolvedValue(null);
  onShowConnection.mockReset().mockImplementation(async (handler) => {
    showConnectionHandlers.push(handler);
    return () => {
      showConnectionHandlers = showConnectionHandlers.filter((h) => h !== handler);
    };
  });
  onEngineEvent.mockReset().mockImplementation(async (handler) => {
    handlers.push(handler);
    return () => {
      handlers = handlers.filter((h) => h !== handler);
    };
  });
}
