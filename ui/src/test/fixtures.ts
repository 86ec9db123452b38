import type { Connection } from "../bindings/Connection";
import type { FlowStarted } from "../bindings/FlowStarted";
import type { Provider } from "../bindings/Provider";

export function provider(overrides: Partial<Provider> = {}): Provider {
  return {
    id: "prov-1",
    name: "Local OP",
    issuer: "https://op.example.test",
    authorize_url: "https://op.example.test/authorize",
    token_url: "https://op.example.test/token",
    userinfo_url: null,
    revocation_url: null,
    builtin: false,
    scopes: ["openid", "email", "offline_access"],
    client_id: "grantkeeper-test",
    client_secret_last4: null,
    enabled: true,
    site: null,
    site_label: null,
    overridden: [],
    redirect_uri: "http://127.0.0.1/callback",
    setup: [],
    docs_url: null,
    connections: 0,
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
    ...overrides,
  };
}

export function flowStarted(overrides: Partial<FlowStarted> = {}): FlowStarted {
  return {
    flow_id: "flow-1",
    provider_id: "prov-1",
    authorize_url: "https://op.example.test/authorize?client_id=grantkeeper-test&state=abc",
    expires_at: "2025-01-02T10:15:00Z",
    ...overrides,
  };
}
