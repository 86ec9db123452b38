import { getContext, setContext } from "svelte";
import type {
  CatalogIntegration,
  CatalogScope,
  CheckResult,
  Connection,
  ConsentAnswer,
  ConsentRequest,
  EngineEvent,
  ErrorPayload,
  NewApiKey,
  NewProvider,
  Provider,
  ProviderAppInput,
  ResourcePlan,
} from "../bindings";
import { Announcer } from "./announcer.svelte";
import { startClock } from "./clock";
import { Consents } from "./consents.svelte";
import type { ConnectionFilter } from "./connectionFilter";
import { DataCache } from "./dataCache.svelte";
import { flowFailureMessage, removalMessage, toErrorPayload } from "./errors";
import { Flows, type FlowEnd, type PendingFlow } from "./flows.svelte";
import { hostOf } from "./format";
import { focusConnectionDetail, focusConnectionOpener, focusConnectionRow } from "./focus";
import * as ipc from "./ipc";
import { ViewState, type Notice, type Tab } from "./view.svelte";

export type { Notice, PendingFlow, Tab };

const SUCCESS_NOTICE_MS = 8000;

/**
 * What the window shows and does, as its components use it: made of the data cache, the
 * view state, the pending sign-in and the live region, each in its own file. Here: the
 * engine's events, and the actions that change more than one of them.
 */
export class AppState {
  readonly #announcer = new Announcer();
  readonly #consents = new Consents();
  readonly #view = new ViewState();
  readonly #cache = new DataCache(
    (text) => this.announce(text),
    (connections) => this.#view.forgetStaleNotice(connections),
  );
  readonly #flows = new Flows({
    announce: (text) => this.announce(text),
    ended: (flow, end) => this.#flowEnded(flow, end),
  });

  eventsError = $state<string | null>(null);
  /** The time relative dates are counted from ("3 minutes ago"), moved on each minute. */
  now = $state.raw(new Date());
  /** Only connections show relative dates: with none, no clock wakes the page. */
  readonly #timed = $derived(this.#cache.connections.length > 0);

  /** `initialConnections`: the list as read before the window mounted, if it was. */
  constructor(initialConnections: Connection[] | null = null) {
    if (initialConnections) this.#cache.seedConnections(initialConnections);
  }

  #unlisten: (() => void) | null = null;
  #stopped = false;
  #stopClock: (() => void) | null = null;
  #reloadTimer: ReturnType<typeof setTimeout> | null = null;

  // The parts' state, read (and the view's filters written) by the components.
  get connections(): Connection[] { return this.#cache.connections; }
  get providers(): Provider[] { return this.#cache.providers; }
  get catalog(): CatalogIntegration[] { return this.#cache.catalog; }
  get catalogError(): string | null { return this.#cache.catalogError; }
  get connectionsLoaded(): boolean { return this.#cache.connectionsLoaded; }
  get providersLoaded(): boolean { return this.#cache.providersLoaded; }
  get connectionsError(): string | null { return this.#cache.connectionsError; }
  get providersError(): string | null { return this.#cache.providersError; }
  get tab(): Tab { return this.#view.tab; }
  get openId(): string | null { return this.#view.openId; }
  get highlightId(): string | null { return this.#view.highlightId; }
  get flowNotice(): Notice | null { return this.#view.notice; }
  get connectionFilter(): ConnectionFilter { return this.#view.connectionFilter; }
  set connectionFilter(filter: ConnectionFilter) { this.#view.connectionFilter = filter; }
  get catalogQuery(): string { return this.#view.catalogQuery; }
  set catalogQuery(query: string) { this.#view.catalogQuery = query; }
  get flow(): PendingFlow | null { return this.#flows.flow; }
  get consents(): ConsentRequest[] { return this.#consents.requests; }
  get announcement(): string { return this.#announcer.announcement; }
  get announcementId(): number { return this.#announcer.announcementId; }

  async start(): Promise<void> {
    if (this.#stopped) return; // unmounted before it started
    this.#stopClock = $effect.root(() => {
      $effect(() => {
        if (!this.#timed) return;
        this.now = new Date(); // it may have stood still since the last connection went
        return startClock((now) => (this.now = now), 30_000);
      });
    });
    try {
      const unlisten = await ipc.onEngineEvent((event) => this.handle(event));
      const unlistenShow = await ipc.onShowConnection((id) => {
        void ipc.commands.takeConnectionToShow().catch(() => null); // shown: not again at a reload
        void this.showConnection(id);
      });
      const both = () => {
        unlisten();
        unlistenShow();
      };
      if (this.#stopped) both();
      else this.#unlisten = both;
    } catch (error) {
      this.eventsError = `Grantkeeper cannot follow changes as they happen: ${toErrorPayload(error).message}`;
    }
    await Promise.all([
      this.reloadConnections(),
      this.reloadProviders(),
      this.loadCatalog(),
      this.#consents.load().catch(() => {}),
    ]);
    // Asked for before this window listened (it starts hidden at login): shown now.
    const toShow = await ipc.commands.takeConnectionToShow().catch(() => null);
    if (toShow) await this.showConnection(toShow);
  }

  stop(): void {
    this.#stopped = true;
    this.#unlisten?.();
    this.#unlisten = null;
    this.#view.stop();
    this.#stopClock?.();
    this.#stopClock = null;
    if (this.#reloadTimer) clearTimeout(this.#reloadTimer);
    this.#reloadTimer = null;
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
        if (!this.#flows.receive(event) && event.kind === "flow_completed") void this.reloadConnections();
        break;
      case "consent_requested":
      case "consent_ended":
        this.#consents.receive(event);
        break;
      case "token_handed_out":
        this.#reloadSoon();
        break;
      case "events_missed":
        void this.#flows.catchUp();
        void this.reloadConnections();
        void this.reloadProviders();
        void this.#consents.load().catch(() => {});
        break;
    }
  }

  /** Hand-outs can come by the hundred: who used what is read again at most once a second. */
  #reloadSoon(): void {
    if (this.#reloadTimer || this.#stopped) return;
    this.#reloadTimer = setTimeout(() => {
      this.#reloadTimer = null;
      void this.reloadConnections();
    }, 1000);
  }

  /** The person's answer to a program's request; rejects with an ErrorPayload. */
  answerConsent(request: ConsentRequest, answer: ConsentAnswer): Promise<void> {
    return this.#consents.answer(request, answer);
  }

  announce(text: string): void {
    this.#announcer.announce(text);
  }

  goTo(tab: Tab): void {
    this.#view.goTo(tab);
  }

  /** Opens a connection's detail view, with focus on its title. */
  async openConnection(connectionId: string): Promise<void> {
    this.#view.showConnections(connectionId);
    await focusConnectionDetail();
  }

  /** Back to the list, with focus where the detail view was opened from (or the list's title once it is gone). */
  async closeConnection(): Promise<void> {
    const connectionId = this.#view.openId;
    this.#view.openId = null;
    await focusConnectionOpener(connectionId);
  }

  /** Opens the Connections tab on one connection, with keyboard focus on what it needs. */
  async showConnection(connectionId: string): Promise<void> {
    this.#view.showConnections();
    await this.reloadConnections();
    this.#view.highlight(connectionId, this.connections);
    await focusConnectionRow(connectionId);
  }

  dismissNotice(): void {
    this.#view.notice = null;
  }

  loadCatalog(): Promise<void> {
    return this.#cache.loadCatalog();
  }

  reloadConnections(): Promise<void> {
    return this.#cache.reloadConnections();
  }

  reloadProviders(): Promise<void> {
    return this.#cache.reloadProviders();
  }

  scopeInfo(value: string): CatalogScope | undefined {
    return this.#cache.scopeInfo(value);
  }

  providerApp(providerId: string | null): Provider | undefined {
    return this.#cache.providerApp(providerId);
  }

  /** Rejects with an ErrorPayload, as every change below does. */
  addProvider(input: NewProvider): Promise<Provider> {
    return this.#cache.addProvider(input);
  }

  setProviderApp(providerId: string, input: ProviderAppInput): Promise<Provider> {
    return this.#cache.setProviderApp(providerId, input);
  }

  removeProvider(provider: Provider, withConnections = false): Promise<void> {
    return this.#cache.removeProvider(provider, withConnections);
  }

  refreshConnection(connection: Connection): Promise<void> {
    return this.#cache.refreshConnection(connection);
  }

  renameConnection(connection: Connection, name: string): Promise<void> {
    return this.#cache.renameConnection(connection, name);
  }

  testConnection(connection: Connection): Promise<CheckResult> {
    return this.#cache.testConnection(connection);
  }

  async removeConnection(connection: Connection): Promise<void> {
    const removal = await this.#cache.removeConnection(connection);
    if (this.#view.openId === connection.id) await this.closeConnection();
    const text = removalMessage(removal);
    this.#view.notice = {
      tone: removal.revocation === "refused" || removal.revocation === "will_retry" ? "info" : "ok",
      text,
    };
    this.announce(text);
  }

  /** Saves an API key as a connection and shows it in the list. */
  async addApiKey(integration: CatalogIntegration, input: NewApiKey): Promise<Connection> {
    const connection = await this.#cache.addApiKey(integration, input);
    this.#view.showConnections();
    this.#view.notice = {
      tone: "ok",
      text: `Connected ${connection.name}.`,
      about: { connectionId: connection.id, status: connection.status },
    };
    this.announce(`Connected ${connection.name}`);
    this.#view.highlight(connection.id, this.connections);
    return connection;
  }

  /** Starts a sign-in for a new connection of an integration (catalog id or custom provider id);
   * resolves to the error when it could not start. */
  connect(integration: string, name: string | null): Promise<ErrorPayload | null> {
    return this.#startFlow(() =>
      ipc.commands.connect(integration, { name, account: null, scopes: [], device: false }),
    );
  }

  /**
   * Starts a sign-in for an MCP server or API by its URL, once the person has seen its plan:
   * the sign-in page is its authorization server's, named by host in the pending notice.
   */
  connectUrl(url: string, options: { name: string | null; scopes: string[] }, plan: ResourcePlan): Promise<ErrorPayload | null> {
    return this.#startFlow(
      () => ipc.commands.connectUrl(url, { ...options, account: null, device: false }),
      hostOf(plan.authorization_server),
    );
  }

  /** Asks for exactly the scopes a Needs-more-access connection lacks. */
  grantAccess(connection: Connection): Promise<ErrorPayload | null> {
    return this.#startFlow(() => ipc.commands.grantAccess(connection.id));
  }

  /** Signs in again for a connection, which keeps its id. */
  reconnect(connection: Connection): Promise<ErrorPayload | null> {
    return this.#startFlow(() => ipc.commands.reconnect(connection.id));
  }

  /** Finishes the sign-in with the address a browser elsewhere ended on (see Flows.answer). */
  answerFlow(address: string): Promise<void> {
    return this.#flows.answer(address);
  }

  cancelFlow(): Promise<void> {
    return this.#flows.cancel();
  }

  #startFlow(...args: Parameters<Flows["start"]>): Promise<ErrorPayload | null> {
    this.#view.notice = null;
    return this.#flows.start(...args);
  }

  async #flowEnded(flow: PendingFlow, end: FlowEnd): Promise<void> {
    if (end.kind === "flow_failed") {
      const text = flowFailureMessage(end.error, flow.providerName);
      this.#view.notice = { tone: end.error.code === "flow_cancelled" ? "info" : "bad", text };
      this.announce(text);
      return;
    }
    // A Reconnect from the detail view ends there; anything else shows the list.
    const inDetail = this.#view.openId === end.connection_id;
    this.#view.showConnections(inDetail ? end.connection_id : null);
    await this.reloadConnections();
    const connection = this.connections.find((c) => c.id === end.connection_id);
    const name = connection?.name ?? flow.providerName;
    const notice: Notice = {
      tone: "ok",
      text: `Connected ${name}.`,
      about: connection && { connectionId: connection.id, status: connection.status },
    };
    this.#view.notice = notice;
    this.announce(`Connected ${name}`);
    // The focused button went away (with its form, or with the status): keyboard users land on the result.
    if (inDetail) {
      await focusConnectionDetail();
    } else {
      this.#view.highlight(end.connection_id, this.connections);
      await focusConnectionRow(end.connection_id);
    }
    this.#view.expireNotice(notice, SUCCESS_NOTICE_MS);
  }
}

const KEY = Symbol("grantkeeper-app");

export function provideApp(app: AppState): AppState {
  return setContext(KEY, app);
}

export function useApp(): AppState {
  return getContext<AppState>(KEY);
}
