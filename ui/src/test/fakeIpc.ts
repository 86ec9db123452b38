// Stands in for src/lib/ipc.ts: the same exports, as mocks, plus `emit` for engine events.
import { vi } from "vitest";
import type { EngineEvent } from "../bindings/EngineEvent";
import type * as Ipc from "../lib/ipc";

export const ENGINE_EVENT: typeof Ipc.ENGINE_EVENT = "engine-event";
export const listConnections = vi.fn<typeof Ipc.listConnections>();
export const listProviders = vi.fn<typeof Ipc.listProviders>();
export const listCatalog = vi.fn<typeof Ipc.listCatalog>();
export const setProviderApp = vi.fn<typeof Ipc.setProviderApp>();
export const grantAccess = vi.fn<typeof Ipc.grantAccess>();
export const renameConnection = vi.fn<typeof Ipc.renameConnection>();
export const testConnection = vi.fn<typeof Ipc.testConnection>();
export const addApiKey = vi.fn<typeof Ipc.addApiKey>();
export const addProvider = vi.fn<typeof Ipc.addProvider>();
export const removeProvider = vi.fn<typeof Ipc.removeProvider>();
export const connect = vi.fn<typeof Ipc.connect>();
export const reconnect = vi.fn<typeof Ipc.reconnect>();
export const refreshConnection = vi.fn<typeof Ipc.refreshConnection>();
export const listActivity = vi.fn<typeof Ipc.listActivity>();
export const connectionActivity = vi.fn<typeof Ipc.connectionActivity>();
export const cancelFlow = vi.fn<typeof Ipc.cancelFlow>();
export const removeConnection = vi.fn<typeof Ipc.removeConnection>();
export const onEngineEvent = vi.fn<typeof Ipc.onEngineEvent>();
export const quit = vi.fn<typeof Ipc.quit>();
export const startAtLogin = vi.fn<typeof Ipc.startAtLogin>();
export const setStartAtLogin = vi.fn<typeof Ipc.setStartAtLogin>();
export const onShowConnection = vi.fn<typeof Ipc.onShowConnection>();

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
  reconnect.mockReset();
  refreshConnection.mockReset();
  listActivity.mockReset().mockResolvedValue([]);
  connectionActivity.mockReset().mockResolvedValue([]);
  cancelFlow.mockReset().mockResolvedValue(null);
  removeConnection
    .mockReset()
    .mockImplementation(async () => ({ name: "Work mail", provider: "Local OP", revocation: "revoked", detail: null }));
  quit.mockReset().mockResolvedValue(null);
  startAtLogin.mockReset().mockResolvedValue(false);
  setStartAtLogin.mockReset().mockImplementation(async (enabled) => enabled);
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
