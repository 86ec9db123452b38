import type {
  CatalogIntegration,
  CatalogScope,
  CheckResult,
  Connection,
  NewApiKey,
  NewProvider,
  Provider,
  ProviderAppInput,
  Removal,
} from "../bindings";
import { byName } from "./byName";
import { toErrorPayload } from "./errors";
import { STATUS_LABELS } from "./format";
import * as ipc from "./ipc";
import { scopeIndex } from "./scopes";

/**
 * The engine's connections, provider apps and catalog as the window last read them,
 * kept current by reloads and by the answers to the changes made here. Methods that
 * change something reject with an ErrorPayload.
 */
export class DataCache {
  connections = $state.raw<Connection[]>([]);
  providers = $state.raw<Provider[]>([]);
  catalog = $state.raw<CatalogIntegration[]>([]);
  #scopes = $derived(scopeIndex(this.catalog));
  catalogError = $state<string | null>(null);
  connectionsLoaded = $state(false);
  providersLoaded = $state(false);
  connectionsError = $state<string | null>(null);
  providersError = $state<string | null>(null);

  #connectionsSeq = 0;
  #connectionsReload: Promise<void> = Promise.resolve();
  #providersSeq = 0;
  readonly #announce: (text: string) => void;
  readonly #connectionsReloaded: (connections: Connection[]) => void;

  /** `connectionsReloaded` sees every connection list a reload puts in place. */
  constructor(announce: (text: string) => void, connectionsReloaded: (connections: Connection[]) => void) {
    this.#announce = announce;
    this.#connectionsReloaded = connectionsReloaded;
  }

  /** A list read before the window mounted, shown until the first reload answers. */
  seedConnections(list: Connection[]): void {
    this.connections = list;
    this.connectionsLoaded = true;
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

  /** Resolves once the list is at least as new as the engine's when this was called. */
  reloadConnections(): Promise<void> {
    const reload = this.#reloadConnections(++this.#connectionsSeq);
    this.#connectionsReload = reload;
    return reload;
  }

  async #reloadConnections(seq: number): Promise<void> {
    try {
      const list = await ipc.commands.listConnections();
      // A newer reload began meanwhile: its answer is the one kept, and waited for.
      if (seq !== this.#connectionsSeq) return this.#connectionsReload;
      if (this.connectionsLoaded) this.#announceStatusChanges(this.connections, list);
      // For bench/launch-and-memory.py --breakdown: when the first screen got its data.
      else performance.mark("connections-loaded");
      this.connections = keepUnchanged(this.connections, list);
      this.#connectionsReloaded(list);
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
    if (changed.length > 0) this.#announce(changed.map((c) => `${c.name}: ${STATUS_LABELS[c.status]}`).join(". "));
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

  /** A granted scope's short name and plain-words description, when the catalog knows it. */
  scopeInfo(value: string): CatalogScope | undefined {
    return this.#scopes.get(value);
  }

  /** The provider app of a provider, when the person has set one up. */
  providerApp(providerId: string | null): Provider | undefined {
    return providerId === null ? undefined : this.providers.find((p) => p.id === providerId);
  }

  async addProvider(input: NewProvider): Promise<Provider> {
    const provider = await command(() => ipc.commands.addProvider(input));
    // Shown at once; the providers_changed event that follows reloads the same list.
    this.providers = [...this.providers.filter((p) => p.id !== provider.id), provider];
    this.#announce(`Added provider ${provider.name}`);
    return provider;
  }

  /** Creates or changes a provider app. */
  async setProviderApp(providerId: string, input: ProviderAppInput): Promise<Provider> {
    const provider = await command(() => ipc.commands.setProviderApp(providerId, input));
    this.providers = [...this.providers.filter((p) => p.id !== provider.id), provider].sort(byName);
    this.#announce(`Saved the provider app for ${provider.name}`);
    return provider;
  }

  /** `withConnections`: the person confirmed removing its connections too. */
  async removeProvider(provider: Provider, withConnections = false): Promise<void> {
    await command(() => ipc.commands.removeProvider(provider.id, withConnections));
    this.providers = this.providers.filter((p) => p.id !== provider.id);
    if (withConnections) void this.reloadConnections();
    this.#announce(`Removed the provider app for ${provider.name}`);
  }

  /** "Refresh now". */
  async refreshConnection(connection: Connection): Promise<void> {
    const refreshed = await command(() => ipc.commands.refreshConnection(connection.id));
    this.connections = this.connections.map((c) => (c.id === refreshed.id ? refreshed : c));
    this.#announce(`Refreshed ${connection.name}`);
  }

  /** Resolves to what became of its grant; saying so is the caller's. */
  async removeConnection(connection: Connection): Promise<Removal> {
    const removal = await command(() => ipc.commands.removeConnection(connection.id));
    this.connections = this.connections.filter((c) => c.id !== connection.id);
    return removal;
  }

  async renameConnection(connection: Connection, name: string): Promise<void> {
    const renamed = await command(() => ipc.commands.renameConnection(connection.id, name));
    this.connections = this.connections.map((c) => (c.id === renamed.id ? renamed : c));
    this.#announce(`Renamed to ${renamed.name}`);
  }

  /** "Test connection". */
  async testConnection(connection: Connection): Promise<CheckResult> {
    const result = await command(() => ipc.commands.testConnection(connection.id));
    this.#announce(`${connection.name} works`);
    return result;
  }

  /** Saves an API key as a connection; saying so is the caller's. */
  async addApiKey(integration: CatalogIntegration, input: NewApiKey): Promise<Connection> {
    const connection = await command(() => ipc.commands.addApiKey(integration.id, input));
    this.connections = [...this.connections.filter((c) => c.id !== connection.id), connection];
    return connection;
  }
}

/**
 * Runs an engine command; whatever it rejects with becomes an ErrorPayload (`ipc` already does
 * that, a test's stand-in for `ipc` may not).
 */
async function command<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toErrorPayload(error);
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
