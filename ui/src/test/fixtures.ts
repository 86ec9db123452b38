import type {
  AiClient,
  AiClientConfig,
  CatalogIntegration,
  Connection,
  ErrorCode,
  ErrorPayload,
  FlowStarted,
  Provider,
  ResourcePlan,
} from "../bindings";

export function provider(overrides: Partial<Provider> = {}): Provider {
  return {
    id: "prov-1",
    name: "Local OP",
    issuer: "https://op.example.test",
    authorize_url: "https://op.example.test/authorize",
    token_url: "https://op.example.test/token",
    userinfo_url: null,
    revocation_url: null,
    jwks_url: null,
    device_authorization_url: null,
    builtin: false,
    scopes: ["openid", "email", "offline_access"],
    client_id: "grantkeeper-test",
    client_secret_set: false,
    client_auth: "basic",
    client_secret_last4: null,
    enabled: true,
    supplied_from: null,
    site: null,
    site_label: null,
    site_help: null,
    client_secret_required: false,
    overridden: [],
    redirect_uri: "http://127.0.0.1/callback",
    setup: [],
    docs_url: null,
    sources: null,
    connections: 0,
    on_previous_addresses: [],
    attention: null,
    created_at: "2025-01-02T10:00:00Z",
    ...overrides,
  };
}

export function connection(overrides: Partial<Connection> = {}): Connection {
  return {
    id: "conn-1",
    name: "Work mail",
    integration: "prov-1",
    integration_name: "Local OP",
    provider: "Local OP",
    provider_id: "prov-1",
    status: "active",
    status_reason: null,
    account: "ada@example.test",
    scopes: ["openid", "email", "offline_access"],
    missing_scopes: [],
    expires_at: "2025-01-02T11:00:00Z",
    last_refreshed_at: null,
    created_at: "2025-01-02T10:00:00Z",
    refresh_token_expires_at: null,
    shared_with: [],
    resource: null,
    consent: "once_per_program",
    used_by: [],
    last_handed_out_at: null,
    details: {},
    ...overrides,
  };
}

export const MCP_URL = "https://mcp.example.test/mcp";

/** A connection made by URL: its provider is named after the URL, and no account is known. */
export function mcpConnection(overrides: Partial<Connection> = {}): Connection {
  return connection({
    id: "conn-mcp",
    name: "Tracker",
    integration: "res-1",
    integration_name: MCP_URL,
    provider: MCP_URL,
    provider_id: "res-1",
    account: null,
    scopes: ["mcp:tools"],
    resource: MCP_URL,
    ...overrides,
  });
}

/** What plan_url answers for MCP_URL at a server Grantkeeper has never seen. */
export function resourcePlan(overrides: Partial<ResourcePlan> = {}): ResourcePlan {
  return {
    resource: MCP_URL,
    authorization_server: "https://auth.example.test",
    scopes: ["mcp:tools"],
    identity: {
      kind: "will_register",
      metadata: JSON.stringify({ client_name: "Grantkeeper", token_endpoint_auth_method: "none" }, null, 2),
    },
    ...overrides,
  };
}

/** A config as the engine writes it, with the connection's id and the client in the snippet. */
export function aiClientSnippet(connectionId: string, client: AiClient): AiClientConfig {
  return client === "claude-code"
    ? { client, place: "a terminal, in your project", snippet: `claude mcp add --transport stdio tracker -- grantkeeper mcp bridge ${connectionId}` }
    : {
        client,
        place: `${client} configuration file`,
        snippet: JSON.stringify({ mcpServers: { tracker: { command: "grantkeeper", args: ["mcp", "bridge", connectionId] } } }, null, 2),
      };
}

/** What a command rejects with when the engine refuses: `field` names the form field at fault. */
export function engineError(code: ErrorCode, message: string, field: string | null = null): ErrorPayload {
  return { code, message, field };
}

export function flowStarted(overrides: Partial<FlowStarted> = {}): FlowStarted {
  return {
    flow_id: "flow-1",
    provider_id: "prov-1",
    provider_name: "Local OP",
    authorize_url: "https://op.example.test/authorize?client_id=grantkeeper-test&state=abc",
    user_code: null,
    expires_at: "2025-01-02T10:15:00Z",
    browser_error: null,
    ...overrides,
  };
}

export function integration(overrides: Partial<CatalogIntegration> = {}): CatalogIntegration {
  return {
    id: "gmail",
    name: "Gmail",
    category: "Email",
    description: "Read your Gmail messages and labels.",
    docs_url: "https://developers.google.com/gmail/api/auth/scopes",
    kind: "oauth",
    provider_id: "google",
    provider_name: "Google",
    mark: "google",
    scopes: [
      {
        name: "gmail.readonly",
        value: "https://www.googleapis.com/auth/gmail.readonly",
        description: "Read your email messages and settings",
      },
    ],
    setup: [
      "Create an OAuth client ID of type Desktop app; it accepts http://127.0.0.1/callback on any port.",
      "Enable the Gmail API in the same Google Cloud project.",
    ],
    redirect_uri: "http://127.0.0.1/callback",
    sources: { checked: "2026-12", urls: ["https://developers.google.com/identity/protocols/oauth2/native-app"] },
    console_url: "https://console.cloud.google.com/apis/credentials",
    client_secret_required: true,
    site_label: null,
    site_help: null,
    key_create_url: null,
    key_fields: [],
    has_check: true,
    ...overrides,
  };
}

export function apiKeyIntegration(overrides: Partial<CatalogIntegration> = {}): CatalogIntegration {
  return integration({
    id: "openai",
    name: "OpenAI",
    category: "AI",
    description: "Call the OpenAI API with your API key.",
    kind: "api_key",
    provider_id: null,
    provider_name: null,
    mark: "openai",
    scopes: [],
    setup: [],
    redirect_uri: null,
    console_url: null,
    client_secret_required: false,
    key_create_url: "https://platform.openai.com/api-keys",
    key_fields: [{ id: "api_key", label: "API key", secret: true, prefix: "sk-" }],
    ...overrides,
  });
}

/** `count` connections across six providers, one in seven needing the person, one in eleven retrying. */
export function manyConnections(count: number): Connection[] {
  const providers = ["google", "github", "slack", "microsoft", "notion", "dropbox"];
  return Array.from({ length: count }, (_, i) => {
    const providerId = providers[i % providers.length]!;
    return connection({
      id: `conn-${i}`,
      name: `Connection ${i}`,
      provider_id: providerId,
      provider: providerId[0]!.toUpperCase() + providerId.slice(1),
      account: `person${i}@example.test`,
      status: i % 7 === 3 ? "reauthorize" : i % 11 === 5 ? "retrying" : "active",
    });
  });
}
