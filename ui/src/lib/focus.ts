import { tick } from "svelte";

/**
 * Moves keyboard focus once the DOM shows the latest state: to an element, one by id, or the one
 * `target()` gives then (a bound element, which that render may create or replace).
 */
export async function focusAfterRender(
  target: HTMLElement | string | (() => HTMLElement | undefined) | undefined,
): Promise<void> {
  await tick();
  const element =
    typeof target === "function" ? target() : typeof target === "string" ? document.getElementById(target) : target;
  element?.focus();
}

/** The open connection's title, where its detail view starts. */
export function focusConnectionDetail(): Promise<void> {
  return focusAfterRender("connection-detail-title");
}

/** Where a connection's detail view was opened from, or the list's title once that is gone. */
export async function focusConnectionOpener(connectionId: string | null): Promise<void> {
  await tick();
  const opener = [...document.querySelectorAll<HTMLElement>("[data-testid=connection-open]")].find(
    (element) => element.dataset.connectionId === connectionId,
  );
  (opener ?? document.getElementById("connections-title"))?.focus();
}

/** A connection's row, or the action it needs (Reconnect, Grant access). */
export async function focusConnectionRow(connectionId: string): Promise<void> {
  await tick();
  const row = [...document.querySelectorAll<HTMLElement>("[data-testid=connection-row]")].find(
    (element) => element.dataset.connectionId === connectionId,
  );
  const action = row?.querySelector<HTMLElement>(
    "[data-testid=connection-reconnect], [data-testid=connection-grant-access]",
  );
  (action ?? row)?.focus();
}
