import { describe, expect, it } from "vitest";
import { emptyProviderFields, splitScopes, toNewProvider, validateProvider } from "./providerForm";

describe("providerForm", () => {
  it("splits scopes on any whitespace", () => {
    expect(splitScopes(" openid\n email\t\toffline_access  ")).toEqual(["openid", "email", "offline_access"]);
    expect(splitScopes("   ")).toEqual([]);
  });

  it("sends only the endpoints of the chosen mode", () => {
    const fields = {
      ...emptyProviderFields(),
      name: " Acme ",
      issuer: "https://issuer.test",
      authorizeUrl: "https://a.test/auth",
      tokenUrl: "https://a.test/token",
      clientId: "id",
    };
    expect(toNewProvider(fields)).toMatchObject({
      name: "Acme",
      issuer: "https://issuer.test",
      authorize_url: null,
      token_url: null,
      client_secret: null,
    });
    expect(toNewProvider({ ...fields, mode: "manual" })).toMatchObject({
      issuer: null,
      authorize_url: "https://a.test/auth",
      token_url: "https://a.test/token",
    });
  });

  it("requires the URLs of the chosen mode only", () => {
    const fields = { ...emptyProviderFields(), name: "Acme", clientId: "id" };
    expect(Object.keys(validateProvider(fields))).toEqual(["issuer"]);
    expect(Object.keys(validateProvider({ ...fields, mode: "manual" }))).toEqual(["authorize_url", "token_url"]);
  });
});
