import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";
import { connection, engineError, MCP_URL, mcpConnection } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

beforeEach(() => {
  ipc.resetIpc();
  ipc.listConnections.mockResolvedValue([connection({ id: "mail", name: "Work mail" }), mcpConnection()]);
});

describe("A connection made by URL", () => {
  it("is marked as an MCP server with its URL in the list; others are not", async () => {
    render(App);
    const [mail, mcp] = await screen.findAllByTestId("connection-row");
    expect(within(mcp!).getByTestId("connection-mcp").textContent).toBe("MCP server");
    expect(within(mcp!).getByTestId("connection-resource").textContent).toBe(MCP_URL);
    // Its provider is named after the URL: said once. No account named: nothing said about it.
    expect(mcp!.textContent!.split(MCP_URL)).toHaveLength(2);
    expect(within(mcp!).queryByTestId("connection-account")).toBeNull();
    expect(within(mail!).queryByTestId("connection-mcp")).toBeNull();
    expect(within(mail!).queryByTestId("connection-resource")).toBeNull();
    expect(mail!.textContent).toContain("Local OP");
  });

  it("names its account where the server said one", async () => {
    ipc.listConnections.mockResolvedValue([mcpConnection({ account: "ada@example.test" })]);
    render(App);
    const row = await screen.findByTestId("connection-row");
    expect(within(row).getByTestId("connection-account").textContent).toBe("ada@example.test");
    expect(within(row).getByTestId("connection-resource").textContent).toBe(MCP_URL);
  });

  it("its detail view gives each AI client its snippet, where it goes, and copies it", async () => {
    const user = userEvent.setup();
    render(App);
    await user.click(within((await screen.findAllByTestId("connection-row"))[1]!).getByTestId("connection-open"));
    const part = await screen.findByTestId("ai-client");
    expect(within(part).getByRole("heading", { name: "Use with an AI client" })).toBeTruthy();
    expect(part.textContent).toContain(`passes its requests to ${MCP_URL}`);

    // Claude Desktop first, as the engine writes it for this connection.
    expect(within(part).getByRole("radio", { name: "Claude Desktop" })).toHaveProperty("checked", true);
    await waitFor(() => expect(ipc.aiClientConfig).toHaveBeenCalledWith("conn-mcp", "claude-desktop"));
    const snippet = await within(part).findByTestId("ai-client-snippet");
    expect(JSON.parse(snippet.textContent!).mcpServers.tracker.args).toEqual(["mcp", "bridge", "conn-mcp"]);
    expect(within(part).getByTestId("ai-client-place").textContent).toContain("claude-desktop configuration file");

    await user.click(within(part).getByTestId("ai-client-copy"));
    expect(await navigator.clipboard.readText()).toBe(snippet.textContent);
    expect(within(part).getByTestId("ai-client-copy").textContent).toBe("Copied");
    expect(screen.getByTestId("announcer").textContent).toBe("Copied");

    // Another client: another snippet, from the engine again.
    await user.click(within(part).getByRole("radio", { name: "Claude Code" }));
    expect(ipc.aiClientConfig).toHaveBeenLastCalledWith("conn-mcp", "claude-code");
    await waitFor(() =>
      expect(within(part).getByTestId("ai-client-snippet").textContent).toBe(
        "claude mcp add --transport stdio tracker -- grantkeeper mcp bridge conn-mcp",
      ),
    );
    expect(within(part).getByTestId("ai-client-place").textContent).toContain("a terminal, in your project");
    expect(within(part).getAllByRole("radio").map((r) => r.parentElement!.textContent!.trim())).toEqual([
      "Claude Desktop",
      "Claude Code",
      "VS Code",
      "Cursor",
    ]);
  });

  it("a slow answer for an earlier client never replaces the chosen one's", async () => {
    const user = userEvent.setup();
    let answerDesktop: (value: Awaited<ReturnType<typeof ipc.aiClientConfig>>) => void = () => {};
    ipc.aiClientConfig.mockImplementationOnce(() => new Promise((resolve) => (answerDesktop = resolve)));
    render(App);
    await user.click(within((await screen.findAllByTestId("connection-row"))[1]!).getByTestId("connection-open"));
    const part = await screen.findByTestId("ai-client");
    await user.click(within(part).getByRole("radio", { name: "Cursor" }));
    await waitFor(() => expect(within(part).getByTestId("ai-client-place").textContent).toContain("cursor"));
    answerDesktop({ client: "claude-desktop", place: "late", snippet: "late" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(within(part).getByTestId("ai-client-place").textContent).toContain("cursor");
  });

  it("a rename writes the snippet again; an engine refusal is said in the section", async () => {
    const user = userEvent.setup();
    render(App);
    await user.click(within((await screen.findAllByTestId("connection-row"))[1]!).getByTestId("connection-open"));
    await within(await screen.findByTestId("ai-client")).findByTestId("ai-client-snippet");
    expect(ipc.aiClientConfig).toHaveBeenCalledTimes(1);

    ipc.aiClientConfig.mockRejectedValueOnce(engineError("not_found", "No connection “Tracker”."));
    ipc.listConnections.mockResolvedValue([connection({ id: "mail" }), mcpConnection({ name: "Tracker 2" })]);
    ipc.emit({ kind: "connections_changed" });
    await waitFor(() => expect(ipc.aiClientConfig).toHaveBeenCalledTimes(2));
    const part = screen.getByTestId("ai-client");
    expect((await within(part).findByRole("alert")).textContent).toBe("No connection “Tracker”.");
    expect(within(part).queryByTestId("ai-client-snippet")).toBeNull();
  });

  it("only connections made by URL offer an AI client", async () => {
    const user = userEvent.setup();
    render(App);
    await user.click(within((await screen.findAllByTestId("connection-row"))[0]!).getByTestId("connection-open"));
    await screen.findByTestId("connection-detail");
    expect(screen.queryByTestId("ai-client")).toBeNull();
    expect(ipc.aiClientConfig).not.toHaveBeenCalled();
  });
});
