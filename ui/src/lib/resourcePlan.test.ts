import { describe, expect, it } from "vitest";
import { identitySentence } from "./resourcePlan";

describe("identitySentence", () => {
  it("names the organisation's app and the file it comes from", () => {
    const identity = { kind: "supplied", client_id: "org-desktop", file: "/etc/grantkeeper/provider-apps.toml" } as const;
    expect(identitySentence(identity)).toBe(
      "With the app your organisation provides for this server (client ID org-desktop, from /etc/grantkeeper/provider-apps.toml).",
    );
  });

  it("says a client ID metadata document's URL is the client ID", () => {
    const sentence = identitySentence({ kind: "metadata_document", url: "https://example.org/gk.json" });
    expect(sentence).toContain("https://example.org/gk.json");
  });
});
