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

/** How long the window waits for its first list before it shows a placeholder instead. */
const FIRST_LIST_WAIT_MS = 1000;

/**
 * The connections, for the first frame; null when they are not there in time (or an
 * error, or outside the app): the window then loads them as it mounts, as ever.
 */
export async function firstConnections(): Promise<Connection[] | null> {
  if (!insideApp()) return null;
  const late = new Promise<null>((resolve) => setTimeout(() => resolve(null), FIRST_LIST_WAIT_MS));
  return Promise.race([generated.listConnections().catch(() => null), late]);
}
