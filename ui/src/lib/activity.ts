import type { EventKind } from "../bindings";

/** What each kind of event is called on screen. */
export const EVENT_LABELS: Record<EventKind, string> = {
  credential_created: "Connected",
  connection_added: "Connected on a shared sign-in",
  credential_reauthorized: "Reconnected",
  credential_refreshed: "Tokens refreshed",
  refresh_failed: "Refresh failed, will retry",
  needs_reauthorization: "Needs reauthorization",
  connection_removed: "Removed",
  credential_revoked: "Access revoked at the provider",
  revocation_failed: "Revoking access failed",
  token_handed_out: "Token given to a program",
  token_refused: "Token refused to a program",
};
