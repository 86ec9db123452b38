// How long the Connections page takes with 200 connections, in jsdom (no layout or paint:
// the figures compare versions of the components, not the real window). Prints figures,
// asserts nothing: `npm run --prefix ui bench`.
import { mount, unmount } from "svelte";
import { bench, describe, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";
import { manyConnections } from "./fixtures";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

const MANY = manyConnections(200);

/** Lets promises and Svelte's updates run until `done` holds. */
async function until(done: () => boolean): Promise<void> {
  for (let turn = 0; !done(); turn++) {
    if (turn > 10_000) throw new Error("the page never got there");
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

const rows = (target: Element) => target.querySelectorAll("[data-testid=connection-row]").length;

describe("Connections page, 200 connections", () => {
  bench("first render of the list", async () => {
    ipc.resetIpc();
    ipc.listConnections.mockResolvedValue(MANY);
    const target = document.body.appendChild(document.createElement("div"));
    const app = mount(App, { target });
    await until(() => rows(target) === 200);
    await unmount(app);
    target.remove();
  });

  let target: HTMLElement;
  let app: Record<string, unknown>;
  let broken = false;
  bench(
    "one connection changes status (the engine sends the whole list again)",
    async () => {
      broken = !broken;
      const list = MANY.map((c) => ({ ...c }));
      if (broken) list[120] = { ...list[120]!, status: "reauthorize" };
      ipc.listConnections.mockResolvedValue(list);
      ipc.emit({ kind: "connections_changed" });
      const status = () => target.querySelector("[data-connection-id=conn-120] [data-testid=connection-status]");
      await until(() => status()?.textContent?.trim() === (broken ? "Reauthorize" : "Active"));
    },
    {
      setup: async () => {
        ipc.resetIpc();
        ipc.listConnections.mockResolvedValue(MANY);
        target = document.body.appendChild(document.createElement("div"));
        app = mount(App, { target });
        await until(() => rows(target) === 200);
      },
      teardown: async () => {
        await unmount(app);
        target.remove();
      },
    },
  );
});
