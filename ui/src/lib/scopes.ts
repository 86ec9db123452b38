import type { CatalogIntegration, CatalogScope } from "../bindings";

/** The scopes every OpenID provider knows (OpenID Connect Core 5.4, 11), in plain words. */
const OPENID_SCOPES: Record<string, string> = {
  openid: "Confirm who you are when you sign in",
  profile: "See your name and profile details",
  email: "See your email address",
  address: "See your postal address",
  phone: "See your phone number",
  offline_access: "Stay signed in while you are away, so Grantkeeper can refresh the tokens",
};

/** Every scope the catalog describes, by the provider's string; the OpenID ones as a fallback. */
export function scopeIndex(catalog: CatalogIntegration[]): Map<string, CatalogScope> {
  const index = new Map<string, CatalogScope>(
    Object.entries(OPENID_SCOPES).map(([value, description]) => [value, { name: value, value, description }]),
  );
  for (const integration of catalog) {
    for (const scope of integration.scopes) index.set(scope.value, scope);
  }
  return index;
}
