// Tauri's isolation pattern: every IPC message from the window passes through this
// sandboxed frame before it is encrypted and sent to the app. A second gate after the
// capability: only Grantkeeper's own commands, event listening and page zoom (Tauri's
// Ctrl+= / Ctrl+- script) get through, so a script slipped into the window could not reach
// any other plugin even if one were granted.
const ALLOWED = /^(?:[a-z_]+|plugin:event\|(?:listen|unlisten)|plugin:webview\|set_webview_zoom)$/;

window.__TAURI_ISOLATION_HOOK__ = (payload) => {
  if (!ALLOWED.test(payload.cmd)) {
    throw new Error(`Grantkeeper's window may not call ${payload.cmd}`);
  }
  return payload;
};
