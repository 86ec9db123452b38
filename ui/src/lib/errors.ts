import type { ErrorPayload, Removal } from "../bindings";

export function isErrorPayload(value: unknown): value is ErrorPayload {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === "string" && typeof v.message === "string";
}

/**
 * Every rejection becomes an ErrorPayload. Besides the engine's own errors, Tauri can
 * reject with a bare string (a command missing or not permitted) and code can throw.
 */
export function toErrorPayload(error: unknown): ErrorPayload {
  if (isErrorPayload(error)) {
    return { code: error.code, message: error.message, field: error.field ?? null };
  }
  const detail =
    typeof error === "string" ? error : error instanceof Error ? error.message : "";
  return {
    code: "internal",
    message: detail
      ? `Something went wrong inside Grantkeeper: ${detail}. Restart the app and try again.`
      : "Something went wrong inside Grantkeeper. Restart the app and try again.",
    field: null,
  };
}

/** The sentence shown when a sign-in ends without a connection. */
export function flowFailureMessage(error: ErrorPayload, providerName: string): string {
  switch (error.code) {
    case "access_denied":
      return `You declined access at ${providerName}. Nothing was saved.`;
    case "flow_cancelled":
      return "Sign-in cancelled.";
    default:
      return error.message;
  }
}

/** What became of a removed connection's grant, in one sentence. */
export function removalMessage(removal: Removal): string {
  const { name, provider } = removal;
  switch (removal.revocation) {
    case "still_in_use":
      return `Removed ${name}. Its sign-in stays: other connections use it.`;
    case "revoked":
      return `Removed ${name} and revoked its access at ${provider}.`;
    case "not_offered":
      return `Removed ${name}. ${provider} offers no way to revoke access from here; remove it in your account settings there.`;
    case "tokens_missing":
      return `Removed ${name}. Its tokens were gone from the keychain, so its access could not be revoked; remove it in your account settings at ${provider}.`;
    default:
      return `Removed ${name}. ${removal.detail ?? ""}`.trim();
  }
}
