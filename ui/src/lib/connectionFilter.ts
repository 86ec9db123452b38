import type { Connection, ConnectionStatus } from "../bindings";
import { needsReconnect } from "./format";
import { byName } from "./byName";

export type StatusFilter = "all" | "active" | "attention" | "retrying" | "pending";

/** What the Connections page shows: connections of one status group and one provider (null: any). */
export type ConnectionFilter = { status: StatusFilter; provider: string | null };

export const NO_FILTER: ConnectionFilter = { status: "all", provider: null };

/** In the order the page offers them. Needs attention: what only the person can fix. */
export const STATUS_FILTERS: { value: StatusFilter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "active", label: "Active" },
  { value: "attention", label: "Needs attention" },
  { value: "retrying", label: "Retrying" },
  { value: "pending", label: "Pending" },
];

export function statusMatches(filter: StatusFilter, status: ConnectionStatus): boolean {
  if (filter === "all") return true;
  if (filter === "attention") return needsReconnect(status);
  return status === filter;
}

export function shows(filter: ConnectionFilter, connection: Connection): boolean {
  return (
    statusMatches(filter.status, connection.status) &&
    (filter.provider === null || connection.provider_id === filter.provider)
  );
}

/** The providers the connections are at, by name. */
export function providersOf(connections: Connection[]): { id: string; name: string }[] {
  const names = new Map(connections.map((c) => [c.provider_id, c.provider]));
  return [...names].map(([id, name]) => ({ id, name })).sort(byName);
}

/** The filter as it applies now: a provider with no connection left no longer narrows the list. */
export function currentFilter(filter: ConnectionFilter, connections: Connection[]): ConnectionFilter {
  const known = filter.provider === null || connections.some((c) => c.provider_id === filter.provider);
  return known ? filter : { ...filter, provider: null };
}
