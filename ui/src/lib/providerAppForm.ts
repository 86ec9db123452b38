import type { AppSetup, CatalogIntegration, ClientAuth, Provider, ProviderAppInput } from "../bindings";

/** What the provider-app form needs to know about a provider, set up or not. */
export type ProviderInfo = AppSetup & { id: string; name: string };

/** A catalog card's provider: the one whose provider app it signs in with. */
export function infoFromIntegration(integration: CatalogIntegration): ProviderInfo {
  return {
    ...integration,
    id: integration.provider_id ?? integration.id,
    name: integration.provider_name ?? integration.name,
  };
}

/**
 * Endpoints a person may override, as the engine names them; `short` is how a
 * provider app's row names one that was set by hand.
 */
export const ENDPOINTS = [
  { field: "authorize_url", label: "Authorize URL", short: "authorize", help: undefined },
  { field: "token_url", label: "Token URL", short: "token", help: undefined },
  { field: "revocation_url", label: "Revocation URL", short: "revocation", help: undefined },
  { field: "userinfo_url", label: "Identity (userinfo) URL", short: "userinfo", help: undefined },
  {
    field: "jwks_url",
    label: "Signing keys (JWKS) URL",
    short: "signing keys (JWKS)",
    help: "Where the provider publishes the keys that sign its ID tokens; Grantkeeper checks ID tokens with them.",
  },
  {
    field: "device_authorization_url",
    label: "Device sign-in URL",
    short: "device sign-in",
    help: "Where sign-in by code (connect --device) starts (RFC 8628).",
  },
] as const;
export type EndpointField = (typeof ENDPOINTS)[number]["field"];

/** How a provider app's row names an endpoint from `Provider.overridden`. */
export function endpointName(field: string): string {
  return ENDPOINTS.find((e) => e.field === field)?.short ?? field.replace("_url", "");
}

export const APP_FIELDS = ["client_id", "client_secret", "site", ...ENDPOINTS.map((e) => e.field)] as const;
export type AppField = (typeof APP_FIELDS)[number];

/** How token requests may carry the client ID and secret, as the engine names them. */
export const CLIENT_AUTH: { value: ClientAuth; label: string }[] = [
  { value: "basic", label: "HTTP Basic (client_secret_basic)" },
  { value: "post", label: "In the request body (client_secret_post)" },
  { value: "none", label: "None: a public client, no secret sent" },
];

export type AppFields = {
  clientId: string;
  clientSecret: string;
  /** "": the provider's own, for a provider app not yet saved. */
  clientAuth: ClientAuth | "";
  site: string;
  enabled: boolean;
  endpoints: Record<EndpointField, string>;
};

export function isAppField(value: string | null): value is AppField {
  return (APP_FIELDS as readonly (string | null)[]).includes(value);
}

/** The form's starting values: the provider app's, or empty for a new one. */
export function appFields(existing: Provider | undefined): AppFields {
  const overridden = (field: EndpointField) =>
    existing?.overridden.includes(field) ? (existing[field] ?? "") : "";
  return {
    clientId: existing?.client_id ?? "",
    clientSecret: "",
    clientAuth: existing?.client_auth ?? "",
    site: existing?.site ?? "",
    enabled: existing?.enabled ?? true,
    endpoints: {
      authorize_url: overridden("authorize_url"),
      token_url: overridden("token_url"),
      revocation_url: overridden("revocation_url"),
      userinfo_url: overridden("userinfo_url"),
      jwks_url: overridden("jwks_url"),
      device_authorization_url: overridden("device_authorization_url"),
    },
  };
}

/**
 * The change to send. A blank secret keeps the stored one; a blank endpoint or site
 * returns to the provider's own (sent as "" only when something was set before).
 */
export function toAppInput(fields: AppFields, existing: Provider | undefined): ProviderAppInput {
  const endpoint = (field: EndpointField) => {
    const value = fields.endpoints[field].trim();
    if (value) return value;
    return existing?.overridden.includes(field) ? "" : null;
  };
  return {
    client_id: fields.clientId.trim() || null,
    client_secret: fields.clientSecret.trim() ? fields.clientSecret : null,
    client_auth: fields.clientAuth && fields.clientAuth !== existing?.client_auth ? fields.clientAuth : null,
    enabled: fields.enabled,
    site: fields.site.trim() || (existing?.site ? "" : null),
    authorize_url: endpoint("authorize_url"),
    token_url: endpoint("token_url"),
    revocation_url: endpoint("revocation_url"),
    userinfo_url: endpoint("userinfo_url"),
    jwks_url: endpoint("jwks_url"),
    device_authorization_url: endpoint("device_authorization_url"),
  };
}
