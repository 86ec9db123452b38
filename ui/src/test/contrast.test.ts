// axe cannot measure contrast in jsdom (see a11y.test.ts), so the palette is checked here:
// every colour pair the components draw text with, in the light and the dark theme.
import { describe, expect, it } from "vitest";
import css from "../app.css?raw";

const COMPONENTS = import.meta.glob<string>("../**/*.svelte", { eager: true, query: "?raw", import: "default" });

const DARK = "@media (prefers-color-scheme: dark)";

function palette(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6})\b/g)].map((m) => [m[1], m[2]]));
}

const light = palette(css.slice(0, css.indexOf(DARK)));
const themes = { light, dark: { ...light, ...palette(css.slice(css.indexOf(DARK))) } };

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high! + 0.05) / (low! + 0.05);
}

// [text, background]: body text, muted notes, status colours on cards and on their chips.
const PAIRS: [string, string][] = [
  ...["bg", "surface", "surface-2", "accent-soft", "ok-soft", "warn-soft", "bad-soft", "info-soft"].map(
    (bg): [string, string] => ["text", bg],
  ),
  ...["bg", "surface", "surface-2", "accent-soft"].map((bg): [string, string] => ["muted", bg]),
  ...["ok", "warn", "bad", "info", "accent"].flatMap((fg) =>
    ["bg", "surface", "surface-2"].map((bg): [string, string] => [fg, bg]),
  ),
  ["ok", "ok-soft"],
  ["warn", "warn-soft"],
  ["bad", "bad-soft"],
  ["info", "info-soft"],
  ["accent", "accent-soft"],
  ["accent-text", "accent"],
];

describe("Colour contrast", () => {
  it.each(Object.entries(themes))("every text colour of the %s theme meets WCAG AA (4.5:1)", (_, colours) => {
    const low = PAIRS.map(([fg, bg]) => ({ pair: `--${fg} on --${bg}`, ratio: contrast(colours[fg]!, colours[bg]!) })).filter(
      ({ ratio }) => ratio < 4.5,
    );
    expect(low).toEqual([]);
  });

  // The edges of buttons, fields, checkboxes and selects, and a checked box's fill (WCAG 1.4.11).
  it.each(Object.entries(themes))("controls of the %s theme stand out from every surface (3:1)", (_, colours) => {
    const low = ["control", "accent"]
      .flatMap((fg) => ["bg", "surface", "surface-2"].map((bg) => ({ pair: `--${fg} on --${bg}`, ratio: contrast(colours[fg]!, colours[bg]!) })))
      .filter(({ ratio }) => ratio < 3);
    expect(low).toEqual([]);
  });

  it("components use only colours of the palette, so both themes apply to them", () => {
    const used = Object.values(COMPONENTS).flatMap((source) => [...source.matchAll(/var\(--([\w-]+)/g)].map((m) => m[1]!));
    expect([...new Set(used)].filter((name) => !(name in themes.light) && !css.includes(`--${name}:`))).toEqual([]);
  });
});
