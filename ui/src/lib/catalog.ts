import type { CatalogIntegration, Provider } from "../bindings";

export type CatalogGroup = { title: string; integrations: CatalogIntegration[] };

/** Does the integration match what the person typed (name, provider, category, what it may do)? */
export function matches(integration: CatalogIntegration, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const text = [
    integration.name,
    integration.id,
    integration.provider_name ?? "API key",
    integration.category,
    integration.description,
    ...integration.scopes.map((s) => `${s.name} ${s.description}`),
  ]
    .join(" ")
    .toLowerCase();
  return words.every((word) => text.includes(word));
}

/** Integrations grouped by provider (API-key services together), in catalog order. */
export function groupByProvider(integrations: CatalogIntegration[]): CatalogGroup[] {
  const groups: CatalogGroup[] = [];
  for (const integration of integrations) {
    const title = integration.provider_name ?? "API keys";
    const group = groups.find((g) => g.title === title);
    if (group) group.integrations.push(integration);
    else groups.push({ title, integrations: [integration] });
  }
  // API keys after the sign-in providers.
  return groups.sort((a, b) => Number(a.title === "API keys") - Number(b.title === "API keys"));
}

/** A custom provider as a catalog entry: it is its own integration. */
export function customIntegration(provider: Provider): CatalogIntegration {
  return {
    id: provider.id,
    name: provider.name,
    category: "Custom",
    description: provider.issuer
      ? `Your OpenID Connect provider at ${provider.issuer}.`
      : "Your own OAuth 2.0 provider.",
    docs_url: provider.docs_url ?? provider.authorize_url,
    kind: "oauth",
    provider_id: provider.id,
    provider_name: provider.name,
    mark: provider.id,
    scopes: provider.scopes.map((scope) => ({ name: scope, value: scope, description: scope })),
    setup: provider.setup,
    redirect_uri: provider.redirect_uri,
    sources: null,
    console_url: null,
    client_secret_required: provider.client_secret_required,
    site_label: null,
    site_help: null,
    key_create_url: null,
    key_fields: [],
    has_check: provider.userinfo_url !== null,
  };
}
