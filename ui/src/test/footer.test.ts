import { render, screen } from "@testing-library/svelte";
import { readFileSync } from "node:fs";
import { beforeEach, expect, it, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

beforeEach(() => ipc.resetIpc());

it("shows the workspace Cargo.toml's version in the footer", async () => {
  const manifest = readFileSync(`${__dirname}/../../../Cargo.toml`, "utf8");
  expect(manifest).toContain(`[workspace.package]\nversion = "${__APP_VERSION__}"`);

  render(App);
  expect((await screen.findByTestId("app-version")).textContent).toBe(`Grantkeeper ${__APP_VERSION__}`);
});
