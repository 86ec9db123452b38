import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";
import { apiKeyIntegration, connection, integration, provider } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

// The ids of crates/engine/catalog.toml: its providers, then its API-key services.
const PROVIDERS = [
  "google", "microsoft", "github", "github-app", "gitlab", "slack", "dropbox", "notion", "spotify", "zoom", "atlassian",
  "azure-devops", "linear", "box", "bitbucket", "hubspot", "asana", "discord", "x", "reddit", "salesforce", "figma",
];
const KEY_SERVICES = ["openai", "anthropic", "figma-token", "sendgrid", "stripe", "twilio"];
const MARKS = import.meta.glob<string>("../../../icons/providers/*.svg", { eager: true, query: "?raw", import: "default" });

function iconOf(element: HTMLElement): HTMLImageElement {
  return within(element).getByTestId("provider-icon") as HTMLImageElement;
}

beforeEach(() => ipc.resetIpc());

describe("Provider marks", () => {
  it("exist for every catalog provider and API-key service, drawn locally", () => {
    const files = Object.keys(MARKS).map((path) => path.split("/").pop());
    for (const id of [...PROVIDERS, ...KEY_SERVICES, "custom"]) expect(files).toContain(`${id}.svg`);
    // Nothing the CSP would block: no reference inside a mark leaves the file.
    for (const svg of Object.values(MARKS)) expect(svg).not.toMatch(/href|https?:\/\/(?!www\.w3\.org\/2000\/svg")/);
  });

  it("show in catalog cards, with the neutral mark for custom providers, hidden from screen readers", async () => {
    const user = userEvent.setup();
    // Azure DevOps signs in with Microsoft 365's provider app but shows its own mark.
    const devops = integration({ id: "azure-devops", name: "Azure DevOps", provider_id: "microsoft", mark: "azure-devops" });
    ipc.listCatalog.mockResolvedValue([integration(), devops, apiKeyIntegration()]);
    ipc.listProviders.mockResolvedValue([provider({ id: "2b7c0e1a-custom" })]);
    render(App);
    await user.click(screen.getByTestId("nav-catalog"));

    const entries = await screen.findAllByTestId("catalog-entry");
    expect(entries.map((entry) => iconOf(entry).getAttribute("src"))).toEqual([
      expect.stringMatching(/google\.svg/),
      expect.stringMatching(/azure-devops\.svg/),
      expect.stringMatching(/openai\.svg/),
      expect.stringMatching(/custom\.svg/),
    ]);
    for (const entry of entries) expect(iconOf(entry).alt).toBe("");
  });

  it("show in connection rows by provider, in a box of fixed size", async () => {
    ipc.listConnections.mockResolvedValue([
      connection({ id: "a", provider_id: "slack", provider: "Slack" }),
      connection({ id: "b", provider_id: "stripe", provider: "Stripe" }),
      connection({ id: "c" }),
    ]);
    render(App);

    const rows = await screen.findAllByTestId("connection-row");
    expect(rows.map((row) => iconOf(row).getAttribute("src"))).toEqual([
      expect.stringMatching(/slack\.svg/),
      expect.stringMatching(/stripe\.svg/),
      expect.stringMatching(/custom\.svg/),
    ]);
    const icon = iconOf(rows[0]!);
    expect([icon.width, icon.height, icon.alt]).toEqual([28, 28, ""]);
  });

  it("show on Provider apps rows and in a connection's detail view", async () => {
    const user = userEvent.setup();
    ipc.listProviders.mockResolvedValue([
      provider({ id: "github", name: "GitHub", builtin: true }),
      provider({ id: "2b7c0e1a-custom", name: "Company SSO" }),
    ]);
    ipc.listConnections.mockResolvedValue([connection({ provider_id: "github", provider: "GitHub" })]);
    render(App);

    await user.click(await screen.findByTestId("connection-open"));
    expect(iconOf(screen.getByTestId("connection-detail")).getAttribute("src")).toMatch(/github\.svg/);
    await user.click(screen.getByTestId("nav-providers"));
    const rows = await screen.findAllByTestId("provider-row");
    expect(rows.map((row) => iconOf(row).getAttribute("src"))).toEqual([
      expect.stringMatching(/github\.svg/),
      expect.stringMatching(/custom\.svg/),
    ]);
  });
});
