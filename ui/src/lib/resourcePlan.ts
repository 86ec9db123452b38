import type { ClientIdentity, ErrorPayload } from "../bindings";
import { formatDate } from "./format";

/** How Grantkeeper identifies itself to the authorization server, as one sentence. */
export function identitySentence(identity: ClientIdentity): string {
  switch (identity.kind) {
    case "provider_app":
      return `With your provider app of ${identity.provider} (client ID ${identity.client_id}).`;
    case "supplied":
      return `With the app your organisation provides for this server (client ID ${identity.client_id}, from ${identity.file}).`;
    case "registered":
      return `With the registration it made there on ${formatDate(identity.registered_at) ?? identity.registered_at} (client ID ${identity.client_id}).`;
    case "metadata_document":
      return `With the client ID metadata document this copy of Grantkeeper publishes: ${identity.url}.`;
    case "will_register":
      return "It registers itself there as an app on this computer: there is nothing for you to register.";
    case "none_available":
      return "The server lets no app register itself, and you have no provider app for it, so signing in cannot work yet.";
  }
}

/**
 * What to do in the window when the server refused to register Grantkeeper: the engine's
 * message says it for the CLI; here the same step is under Provider apps.
 */
export function inTheWindow(error: ErrorPayload, server: string): ErrorPayload {
  if (error.code !== "registration_refused") return error;
  return {
    ...error,
    message: `${error.message} In this window: under Provider apps, add a provider with the issuer ${server} and the client ID of the app you registered there.`,
  };
}

/** The same step before trying, for a plan that has no way to identify Grantkeeper. */
export function providerAppStep(server: string): string {
  return `Register an app at ${server} yourself, add it under Provider apps (Add provider, with the issuer ${server} and its client ID), then choose Check again.`;
}
