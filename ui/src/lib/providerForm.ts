import type { NewProvider } from "../bindings";

export type ProviderMode = "issuer" | "manual";

/** The add-provider form as typed, before parsing. */
export type ProviderFields = {
  name: string;
  mode: ProviderMode;
  issuer: string;
  authorizeUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: string;
};

/** Field names as the engine reports them in `ErrorPayload.field`, in form order. */
export const FIELD_NAMES = [
  "name",
  "issuer",
  "authorize_url",
  "token_url",
  "client_id",
  "client_secret",
  "scopes",
] as const;
export type FieldName = (typeof FIELD_NAMES)[number];
export type FieldErrors = Partial<Record<FieldName, string>>;

export const DEFAULT_SCOPES = "openid email offline_access";
export const REDIRECT_URI = "http://127.0.0.1/callback";

export function emptyProviderFields(): ProviderFields {
  return {
    name: "",
    mode: "issuer",
    issuer: "",
    authorizeUrl: "",
    tokenUrl: "",
    clientId: "",
    clientSecret: "",
    scopes: DEFAULT_SCOPES,
  };
}

/** Whether the form shows an input for this field in the current mode. */
export function fieldIsShown(field: FieldName, mode: ProviderMode): boolean {
  if (field === "issuer") return mode === "issuer";
  if (field === "authorize_url" || field === "token_url") return mode === "manual";
  return true;
}

export function splitScopes(text: string): string[] {
  return text.split(/\s+/).filter((scope) => scope.length > 0);
}

/** Only what is required; the engine checks everything else and has the last word. */
export function validateProvider(fields: ProviderFields): FieldErrors {
  const errors: FieldErrors = {};
  if (!fields.name.trim()) errors.name = "Enter a name for this provider.";
  if (fields.mode === "issuer") {
    if (!fields.issuer.trim()) errors.issuer = "Enter the provider's OpenID issuer URL.";
  } else {
    if (!fields.authorizeUrl.trim()) errors.authorize_url = "Enter the provider's authorize URL.";
    if (!fields.tokenUrl.trim()) errors.token_url = "Enter the provider's token URL.";
  }
  if (!fields.clientId.trim()) {
    errors.client_id = "Enter the client ID of your provider app.";
  }
  return errors;
}

export function firstField(errors: FieldErrors): FieldName | undefined {
  return FIELD_NAMES.find((field) => errors[field] !== undefined);
}

export function toNewProvider(fields: ProviderFields): NewProvider {
  const issuerMode = fields.mode === "issuer";
  const secret = fields.clientSecret.trim();
  return {
    name: fields.name.trim(),
    issuer: issuerMode ? fields.issuer.trim() : null,
    authorize_url: issuerMode ? null : fields.authorizeUrl.trim(),
    token_url: issuerMode ? null : fields.tokenUrl.trim(),
    client_id: fields.clientId.trim(),
    client_secret: secret ? secret : null,
    client_auth: null,
    scopes: splitScopes(fields.scopes),
  };
}
