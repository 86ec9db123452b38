import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { commands, firstConnections } from "./lib/ipc";
import { afterNextPaint } from "./lib/paint";

// The marks are for bench/launch-and-memory.py --breakdown.
performance.mark("bundle-runs");
const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");
// The app put the list into the page, so the first frame shows it: one layout and paint
// instead of a placeholder and then the list.
const app = mount(App, { target, props: { initialConnections: firstConnections() } });
performance.mark("mounted");
// Start-up work the first screen does not need waits for this (src-tauri/src/first_screen.rs),
// or at most a few seconds, so a failed call costs nothing more.
afterNextPaint(() => {
  performance.mark("first-screen-shown");
  commands.firstScreenShown().catch(() => {});
});
export default app;
