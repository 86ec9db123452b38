import { getContext, setContext, tick } from "svelte";
import type {
  CatalogIntegration,
  CatalogScope,
  CheckResult,
  Connection,
  ConnectionStatus,
  EngineEvent,
  ErrorPayload,
  FlowStarted,
  NewApiKey,
  NewProvider,
  Provider,
  ProviderAppInput,
  Removal,
} from "../bindings";
import { NO_FILTER, shows, type ConnectionFilter } from "./connectionFilter";
import { flowFailureMessage, removalMessage, toErrorPayload } from "./errors";
import { STATUS_LABELS } from "./format";
import * as ipc from "./ipc";
import { scopeIndex } from "./scopes";

export type Tab = "connections" | "catalog" | "providers" | "activity";

/** `about`: the connection a notice reports on, in the status it reports; the notice goes when that changes. */
export type Notice = {
  tone: "success" | "info" | "error";
  text: string;
  about?: { connectionId: string; status: ConnectionStatus };
};

export type PendingFlow = {
  flowId: string;
  providerId: string;
  providerName: string;
  authorizeUrl: string;
  expiresAt: string;
};

type FlowEnd = Extract<EngineEvent, { kind: "flow_completed" | "flow_failed" }>;

const HIGHLIGHT_MS = 4000;
const SUCCESS_NOTICE_MS = 8000;

/** What the window shows, and the only place that calls the engine. */
export class AppState {
  tab = $state<Tab>("connections");
  connections = $state.raw<Connection[]>([]);
  /** What the Connections page narrows its list to. */
  connectionFilter = $state.raw<ConnectionFilter>(NO_FILTER);
  providers = $state.raw<Provider[]>([]);
  catalog = $state.raw<CatalogIntegration[]>([]);
  #scopes = $derived(scopeIndex(this.catalog));
  catalogError = $state<string | null>(null);
  /** Catalog search text; `/` focuses the field. */
  catalogQuery = $state("");
  connectionsLoaded = $state(false);
  providersLoaded = $state(false);
  connectionsError = $state<string | null>(null);
  providersError = $state<string | null>(null);
  eventsError = $state<string | null>(null);
  flow = $state.raw<PendingFlow | null>(null);
  flowNotice = $state.raw<Notice | null>(null);
  highlightId = $state<string | null>(null);
  /** The connection whose detail view is open on the Connections page. */
  openId = $state<string | null>(null);
  announcement = $state("");
  /** Bumped on every announcement so that the same words are announced again. */
  announcementId = $state(0);
  /** The time relative dates are counted from ("3 minutes ago"), moved on each minute. */
  now = $state.raw(new Date());

  #unlisten: (() => void) | null = null;
  #stopped = false;
  #connectionsSeq = 0;
  #providersSeq = 0;
  #connecting = 0;
  #highlightSeq = 0;
  // A fast browser can finish the sign-in before `connect` itself has answered.
  #earlyEnds = new Map<string, FlowEnd>();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #clock: ReturnType<typeof setInterval> | null = null;

  async start(): Promise<void> {
    this.#clock = setInterval(() => (this.now = new Date()), 30_000);
    try {
      const unlisten = await ipc.onEngineEvent((event) => this.handle(event));
      const unlistenShow = await ipc.onShowConnection((id) => void this.showConnection(id));
      const both = () => {
        unlisten();
        unlistenShow();
      };
      if (this.#stopped) both();
      else this.#unlisten = both;
    } catch (error) {
      this.eventsError = `Grantkeeper cannot follow changes as they happen: ${toErrorPayload(error).message}`;
    }
    await Promise.all([this.reloadConnections(), this.reloadProviders(), this.loadCatalog()]);
  }

  /** The built-in catalog; it never changes while the app runs. */
  async loadCatalog(): Promise<void> {
    try {
      this.catalog = await ipc.commands.listCatalog();
      this.catalogError = null;
    } catch (error) {
      this.catalogError = toErrorPayload(error).message;
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#unlisten?.();
    this.#unlisten = null;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#clock) clearInterval(this.#clock);
    this.#clock = null;
  }

  goTo(tab: Tab): void {
    this.tab = tab;
    this.openId = null;
  }

  /** Opens a connection's detail view, with focus on its title. */
  async openConnection(connectionId: string): Promise<void> {
    this.tab = "connections";
    this.openId = connectionId;
    await tick();
    document.getElementById("connection-detail-title")?.focus();
  }

  /** Back to the list, with focus where the detail view was opened from (or the list's title once it is gone). */
  async closeConnection(): Promise<void> {
    const connectionId = this.openId;
    this.openId = null;
    await tick();
    const opener = [...document.querySelectorAll<HTMLElement>("[data-testid=connection-open]")].find(
      (element) => element.dataset.connectionId === connectionId,
    );
    (opener ?? document.getElementById("connections-title"))?.focus();
  }

  /** Opens the Connections tab on one connection, with keyboard focus on what it needs. */
  async showConnection(connectionId: string): Promise<void> {
    this.tab = "connections";
    this.openId = null;
    await this.reloadConnections();
    this.#highlight(connectionId);
    await this.#focusConnection(connectionId);
  }

  /** Points at one connection for a moment; a filter that would hide it is cleared. */
  #highlight(connectionId: string): void {
    const connection = this.connections.find((c) => c.id === connectionId);
    if (connection && !shows(this.connectionFilter, connection)) this.connectionFilter = NO_FILTER;
    // Only the newest highlight's timer ends it: pointing at the same row twice lasts from the second time.
    const seq = ++this.#highlightSeq;
    this.highlightId = connectionId;
    this.#later(HIGHLIGHT_MS, () => {
      if (this.#highlightSeq === seq) this.highlightId = null;
    });
  }

  announce(text: string): void {
    this.announcement = text;
    this.announcementId += 1;
  }

  handle(event: EngineEvent): void {
    switch (event.kind) {
      case "connections_changed":
        void this.reloadConnections();
        break;
      case "providers_changed":
        void this.reloadProviders();
        break;
      case "flow_completed":
      case "flow_failed":
        if (this.flow?.flowId === event.flow_id) void this.#endFlow(this.flow, event);
        else if (this.#connecting > 0) this.#earlyEnds.set(event.flow_id, event);
        else if (event.kind === "flow_completed") void this.reloadConnections();
        break;
    }
  }

  async reloadConnections(): Promise<void> {
    const seq = ++this.#connectionsSeq;
    try {
      const list = await ipc.commands.listConnections();
      if (seq !== this.#connectionsSeq) return;
      if (this.connectionsLoaded) this.#announceStatusChanges(this.connections, list);
      this.connections = keepUnchanged(this.connections, list);
      const about = this.flowNotice?.about;
      if (about && list.find((c) => c.id === about.connectionId)?.status !== about.status) this.flowNotice = null;
      this.connectionsLoaded = true;
      this.connectionsError = null;
    } catch (error) {
      if (seq === this.#connectionsSeq) this.connectionsError = toErrorPayload(error).message;
    }
  }

  /** The live region says when a connection changes status by itself (a refresh, the provider, another process). */
  #announceStatusChanges(before: Connection[], after: Connection[]): void {
    const was = new Map(before.map((c) => [c.id, c.status]));
    const changed = after.filter((c) => was.has(c.id) && was.get(c.id) !== c.status);
    if (changed.length > 0) this.announce(changed.map((c) => `${c.name}: ${STATUS_LABELS[c.status]}`).join(". "));
  }

  async reloadProviders(): Promise<void> {
    const seq = ++this.#providersSeq;
    try {
      const list = await ipc.commands.listProviders();
      if (seq !== this.#providersSeq) return;
      this.providers = list;
      this.providersLoaded = true;
      this.providersError = null;
    } catch (error) {
      if (seq === this.#providersSeq) this.providersError = toErrorPayload(error).message;
    }
  }

  /** Rejects with an ErrorPayload. */
  async addProvider(input: NewProvider): Promise<Provider> {
    let provider: Provider;
    try {
      provider = await ipc.commands.addProvider(input);
    } catch (error) {
      throw toErrorPayload(error);
    }
    // Shown at once; the providers_changed event that follows reloads the same list.
    this.providers = [...this.providers.filter((p) => p.id !== provider.id), provider];
    this.announce(`Added provider ${provider.name}`);
    return provider;
  }

  /** Creates or changes a provider app. Rejects with an ErrorPayload. */
  async setProviderApp(providerId: string, input: ProviderAppInput): Promise<Provider> {
    let provider: Provider;
    try {
      provider = await ipc.commands.setProviderApp(providerId, input);
    } catch (error) {
      throw toErrorPayload(error);
    }
    this.providers = [...this.providers.filter((p) => p.id !== provider.id), provider].sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    this.announce(`Saved the provider app for ${provider.name}`);
    return provider;
  }

  /** `withConnections`: the person confirmed removing its connections too. Rejects with an ErrorPayload. */
  async removeProvider(provider: Provider, withConnections = false): Promise<void> {
    try {
      await ipc.commands.removeProvider(provider.id, withConnections);
    } catch (error) {
      throw toErrorPayload(error);
    }
    this.providers = this.providers.filter((p) => p.id !== provider.id);
    if (withConnections) void this.reloadConnections();
    this.announce(`Removed the provider app for ${provider.name}`);
  }

  /** A granted scope's short name and plain-words description, when the catalog knows it. */
  scopeInfo(value: string): CatalogScope | undefined {
    return this.#scopes.get(value);
  }

  /** The provider app of a provider, when the person has set one up. */
  providerApp(providerId: string | null): Provider | undefined {
    return providerId === null ? undefined : this.providers.find((p) => p.id === providerId);
  }

  /** "Refresh now". Rejects with an ErrorPayload. */
  async refreshConnection(connection: Connection): Promise<void> {
    let refreshed: Connection;
    try {
      refreshed = await ipc.commands.refreshConnection(connection.id);
    } catch (error) {
      throw toErrorPayload(error);
    }
    this.connections = this.connections.map((c) => (c.id === refreshed.id ? refreshed : c));
    this.announce(`Refreshed ${connection.name}`);
  }

  /** Rejects with an ErrorPayload. */
  async removeConnection(connection: Connection): Promise<void> {
    let removal: Removal;
    try {
      removal = await ipc.commands.removeConnection(connection.id);
    } catch (error) {
      throw toErrorPayload(error);
    }
    this.connections = this.connections.filter((c) => c.id !== connection.id);
    if (this.openId === connection.id) await this.closeConnection();
    const text = removalMessage(removal);
    this.flowNotice = { tone: removal.revocation === "refused" || removal.revocation === "will_retry" ? "info" : "success", text };
    this.announce(text);
  }

  /** Rejects with an ErrorPayload. */
  async renameConnection(connection: Connection, name: string): Promise<void> {
    let renamed: Connection;
    try {
      renamed = await ipc.commands.renameConnection(connection.id, name);
    } catch (error) {
      throw toErrorPayload(error);
    }
    this.connections = this.connections.map((c) => (c.id === renamed.id ? renamed : c));
    this.announce(`Renamed to ${renamed.name}`);
  }

  /** "Test connection". Rejects with an ErrorPayload. */
  async testConnection(connection: Connection): Promise<CheckResult> {
    try {
      const result = await ipc.commands.testConnection(connection.id);
      this.announce(`${connection.name} works`);
      return result;
    } catch (error) {
      throw toErrorPayload(error);
    }
  }

  /** Saves an API key as a connection. Rejects with an ErrorPayload. */
  async addApiKey(integration: CatalogIntegration, input: NewApiKey): Promise<Connection> {
    let connection: Connection;
    try {
      connection = await ipc.commands.addApiKey(integration.id, input);
    } catch (error) {
      throw toErrorPayload(error);
    }
    this.connections = [...this.connections.filter((c) => c.id !== connection.id), connection];
    this.tab = "connections";
    this.openId = null;
    this.flowNotice = {
      tone: "success",
      text: `Connected ${connection.name}.`,
      about: { connectionId: connection.id, status: connection.status },
    };
    this.announce(`Connected ${connection.name}`);
    this.#highlight(connection.id);
    return connection;
  }

  /** Starts a sign-in for a new connection of an integration (catalog id or custom provider id);
   * resolves to the error when it could not start. */
  connect(integration: string, name: string | null): Promise<ErrorPayload | null> {
    return this.#startFlow(() => ipc.commands.connect(integration, { name, account: null, scopes: [], device: false }));
  }

  /** Asks for exactly the scopes a Needs-more-access connection lacks. */
  grantAccess(connection: Connection): Promise<ErrorPayload | null> {
    return this.#startFlow(() => ipc.commands.grantAccess(connection.id));
  }

  /** Signs in again for a connection, which keeps its id. */
  reconnect(connection: Connection): Promise<ErrorPayload | null> {
    return this.#startFlow(() => ipc.commands.reconnect(connection.id));
  }

  async #startFlow(start: () => Promise<FlowStarted>): Promise<ErrorPayload | null> {
    this.flowNotice = null;
    this.#connecting += 1;
    try {
      const started = await start();
      const provider = this.providers.find((p) => p.id === started.provider_id);
      const flow: PendingFlow = {
        flowId: started.flow_id,
        providerId: started.provider_id,
        providerName: provider?.name ?? "the provider",
        authorizeUrl: started.authorize_url,
        expiresAt: started.expires_at,
      };
      this.flow = flow;
      this.announce(`Finish signing in to ${flow.providerName} in your browser`);
      const early = this.#earlyEnds.get(flow.flowId);
      if (early) void this.#endFlow(flow, early);
      return null;
    } catch (error) {
      return toErrorPayload(error);
    } finally {
      this.#connecting -= 1;
      if (this.#connecting === 0) this.#earlyEnds.clear();
    }
  }

  async cancelFlow(): Promise<void> {
    const flow = this.flow;
    if (!flow) return;
    let error: ErrorPayload = { code: "flow_cancelled", message: "Sign-in cancelled.", field: null };
    try {
      await ipc.commands.cancelFlow(flow.flowId);
    } catch (rejection) {
      error = toErrorPayload(rejection);
    }
    // The engine's own flow_failed may have ended it already.
    if (this.flow?.flowId === flow.flowId) {
      await this.#endFlow(flow, { kind: "flow_failed", flow_id: flow.flowId, error });
    }
  }

  dismissNotice(): void {
    this.flowNotice = null;
  }

  async #endFlow(flow: PendingFlow, event: FlowEnd): Promise<void> {
    this.flow = null;
    if (event.kind === "flow_failed") {
      const text = flowFailureMessage(event.error, flow.providerName);
      this.flowNotice = { tone: event.error.code === "flow_cancelled" ? "info" : "error", text };
      this.announce(text);
      return;
    }
    this.tab = "connections";
    // A Reconnect from the detail view ends there; anything else shows the list.
    const inDetail = this.openId === event.connection_id;
    if (!inDetail) this.openId = null;
    await this.reloadConnections();
    const connection = this.connections.find((c) => c.id === event.connection_id);
    const name = connection?.name ?? flow.providerName;
    const notice: Notice = {
      tone: "success",
      text: `Connected ${name}.`,
      about: connection && { connectionId: connection.id, status: connection.status },
    };
    this.flowNotice = notice;
    this.announce(`Connected ${name}`);
    // The focused button went away (with its form, or with the status): keyboard users land on the result.
    if (inDetail) {
      await tick();
      document.getElementById("connection-detail-title")?.focus();
    } else {
      this.#highlight(event.connection_id);
      await this.#focusConnection(event.connection_id);
    }
    this.#later(SUCCESS_NOTICE_MS, () => {
      if (this.flowNotice === notice) this.flowNotice = null;
    });
  }

  /** Focuses a connection's row, or the action it needs (Reconnect, Grant access). */
  async #focusConnection(connectionId: string): Promise<void> {
    await tick();
    const row = [...document.querySelectorAll<HTMLElement>("[data-testid=connection-row]")].find(
      (element) => element.dataset.connectionId === connectionId,
    );
    const action = row?.querySelector<HTMLElement>(
      "[data-testid=connection-reconnect], [data-testid=connection-grant-access]",
    );
    (action ?? row)?.focus();
  }

  #later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }
}

/** The new list, with the old object of every connection that did not change: its row has nothing to redo. */
function keepUnchanged(before: Connection[], after: Connection[]): Connection[] {
  const old = new Map(before.map((c) => [c.id, c]));
  return after.map((c) => {
    const was = old.get(c.id);
    return was && JSON.stringify(was) === JSON.stringify(c) ? was : c;
  });
}

const KEY = Symbol("grantkeeper-app");

export function provideApp(app: AppState): AppState {
  return setContext(KEY, app);
}

export function useApp(): AppState {
  return getContext<AppState>(KEY);
}
