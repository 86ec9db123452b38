// The only module that talks to Tauri; tests replace it at this typed boundary. The
// commands and events themselves are generated from the Rust side (../bindings.ts);
// this adds what generation cannot: a sentence outside the app, and one rejection type.
import { commands as generated, events, type Connection, type EngineEvent, type ErrorPayload } from "../bindings";
import { toErrorPayload } from "./errors";

const OUTSIDE_APP: ErrorPayload = {
  code: "internal",
  message: "This page only works inside the Grantkeeper app window. Start the app instead of opening the page in a browser.",
  field: null,
};

// Checked first so that a plain browser (vite dev) shows a sentence rather than a TypeError.
function insideApp(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

/** Every command of the app, as generated; a rejection is always an ErrorPayload. */
export const commands = Object.fromEntries(
  Object.entries(generated).map(([name, command]) => [
    name,
    async (...args: unknown[]) => {
      if (!insideApp()) throw OUTSIDE_APP;
      try {
        return await (command as (...args: unknown[]) => Promise<unknown>)(...args);
      } catch (error) {
        throw toErrorPayload(error);
      }
    },
  ]),
) as typeof generated;

/** The tray menu or a notification asks the window to show one connection (its id). */
export async function onShowConnection(handler: (connectionId: string) => void): Promise<() => void> {
  if (!insideApp()) throw OUTSIDE_APP;
  return events.showConnection.listen((event) => handler(event.payload));
}

/** Subscribes to the engine's events; resolves to the function that unsubscribes. */
export async function onEngineEvent(handler: (event: EngineEvent) => void): Promise<() => void> {
  if (!insideApp()) throw OUTSIDE_APP;
  return events.engineEvent.listen((event) => handler(event.payload));
}

/**
 * The connections the app put into the page as it made the window
 * (src-tauri/src/window.rs), for the first frame; null outside the app or when it could
 * not read them (the window then loads them as it mounts). There once: later lists come
 * from `commands.listConnections`.
 */
export function firstConnections(): Connection[] | null {
  if (typeof window === "undefined") return null;
  const connections = window.__GRANTKEEPER_FIRST_CONNECTIONS__ ?? null;
  delete window.__GRANTKEEPER_FIRST_CONNECTIONS__;
  return connections;
}
