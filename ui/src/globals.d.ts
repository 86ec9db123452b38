/** The app's version, from the workspace Cargo.toml (see vite.config.ts). */
declare const __APP_VERSION__: string;

interface Window {
  /** Put into the page by the app as it makes the window (src-tauri/src/window.rs). */
  __GRANTKEEPER_FIRST_CONNECTIONS__?: import("./bindings").Connection[];
}
