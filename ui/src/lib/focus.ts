import { tick } from "svelte";

/** Moves keyboard focus once the DOM shows the latest state: an element, or one by id. */
export async function focusAfterRender(target: HTMLElement | string | undefined): Promise<void> {
  await tick();
  const element = typeof target === "string" ? document.getElementById(target) : target;
  element?.focus();
}
