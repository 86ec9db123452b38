import type { Connection, ConnectionStatus } from "../bindings";
import { NO_FILTER, shows, type ConnectionFilter } from "./connectionFilter";
import type { Tone } from "./format";

export type Tab = "connections" | "catalog" | "providers" | "activity";

/** `about`: the connection a notice reports on, in the status it reports; the notice goes when that changes. */
export type Notice = {
  tone: Tone;
  text: string;
  about?: { connectionId: string; status: ConnectionStatus };
};

const HIGHLIGHT_MS = 4000;

/**
 * Where the window is: its page, the connection whose detail view is open, what the
 * Connections list is narrowed to and points at, and the notice above the page.
 */
export class ViewState {
  tab = $state<Tab>("connections");
  /** The connection whose detail view is open on the Connections page. */
  openId = $state<string | null>(null);
  /** What the Connections page narrows its list to. */
  connectionFilter = $state.raw<ConnectionFilter>(NO_FILTER);
  /** Catalog search text; `/` focuses the field. */
  catalogQuery = $state("");
  highlightId = $state<string | null>(null);
  notice = $state.raw<Notice | null>(null);

  #highlightSeq = 0;
  #timers = new Set<ReturnType<typeof setTimeout>>();

  goTo(tab: Tab): void {
    this.tab = tab;
    this.openId = null;
  }

  /** The Connections page, on its list or (`openId`) on one connection's detail view. */
  showConnections(openId: string | null = null): void {
    this.tab = "connections";
    this.openId = openId;
  }

  /** Points at one connection for a moment; a filter that would hide it is cleared. */
  highlight(connectionId: string, connections: Connection[]): void {
    const connection = connections.find((c) => c.id === connectionId);
    if (connection && !shows(this.connectionFilter, connection)) this.connectionFilter = NO_FILTER;
    // Only the newest highlight's timer ends it: pointing at the same row twice lasts from the second time.
    const seq = ++this.#highlightSeq;
    this.highlightId = connectionId;
    this.#later(HIGHLIGHT_MS, () => {
      if (this.#highlightSeq === seq) this.highlightId = null;
    });
  }

  /** Takes `notice` down after `ms`, unless another has replaced it by then. */
  expireNotice(notice: Notice, ms: number): void {
    this.#later(ms, () => {
      if (this.notice === notice) this.notice = null;
    });
  }

  /** A notice about a connection goes once the connection is no longer in the status it reports. */
  forgetStaleNotice(connections: Connection[]): void {
    const about = this.notice?.about;
    if (about && connections.find((c) => c.id === about.connectionId)?.status !== about.status) this.notice = null;
  }

  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }
}
