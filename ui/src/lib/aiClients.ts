import type { AiClient } from "../bindings";

/** The AI clients the detail view writes configuration for, in the order offered. */
export const AI_CLIENTS: { id: AiClient; label: string }[] = [
  { id: "claude-desktop", label: "Claude Desktop" },
  { id: "claude-code", label: "Claude Code" },
  { id: "vscode", label: "VS Code" },
  { id: "cursor", label: "Cursor" },
];
