import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { firstConnections } from "./lib/ipc";

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

// The first screen's data is asked for before the app mounts, so the window's first
// frame shows the list: one layout and paint instead of a placeholder and then the list.
// For bench/launch-and-memory.py --breakdown: the bundle runs and asks for the list;
// then the list is here (or not) and the app mounts.
performance.mark("connections-asked");
const initialConnections = await firstConnections();
performance.mark("mount-start");
export default mount(App, { target, props: { initialConnections } });
