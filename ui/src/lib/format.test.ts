import { describe, expect, it, vi } from "vitest";
import { connection } from "../test/fixtures";
import { relativeTime, usedBy } from "./format";

describe("relativeTime", () => {
  const now = new Date("2026-11-30T12:00:00Z");
  it("says how long ago or how soon, in the largest whole unit", () => {
    expect(relativeTime("2026-11-30T11:57:00Z", now)).toBe("3 minutes ago");
    expect(relativeTime("2026-11-30T12:59:00Z", now)).toBe("in 59 minutes");
    expect(relativeTime("2026-11-30T14:30:00Z", now)).toBe("in 2 hours");
    expect(relativeTime("2026-11-29T12:00:00Z", now)).toBe("yesterday");
    expect(relativeTime("2026-10-15T12:00:00Z", now)).toBe("last month");
  });
  it("has words for under a minute and nothing for no date", () => {
    expect(relativeTime("2026-11-30T11:59:40Z", now)).toBe("just now");
    expect(relativeTime("2026-11-30T12:00:30Z", now)).toBe("within a minute");
    expect(relativeTime(null, now)).toBeNull();
    expect(relativeTime("not a date", now)).toBeNull();
  });
  it("speaks English, as the rest of the window, whatever the system's language", async () => {
    // A German system: a formatter made for the default locale would say "vor 3 Minuten".
    const German = class extends Intl.RelativeTimeFormat {
      constructor(locales?: Intl.LocalesArgument, options?: Intl.RelativeTimeFormatOptions) {
        super(locales ?? "de", options);
      }
    };
    vi.stubGlobal("Intl", Object.create(Intl, { RelativeTimeFormat: { value: German } }));
    vi.resetModules();
    try {
      const fresh = await import("./format");
      expect(fresh.relativeTime("2026-11-30T11:57:00Z", now)).toBe("3 minutes ago");
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe("usedBy", () => {
  const now = new Date("2026-11-30T12:00:00Z");
  it("names the latest program, counts the others and says when", () => {
    const used = (paths: string[]) =>
      usedBy(connection({ used_by: paths, last_handed_out_at: "2026-11-30T11:57:00Z" }), now);
    expect(used(["/usr/bin/git", "/usr/bin/python3.11", "/usr/bin/curl"])).toBe("Used by git and 2 others · 3 minutes ago");
    expect(used(["/usr/bin/git", "/usr/bin/curl"])).toBe("Used by git and 1 other · 3 minutes ago");
    expect(used(["/usr/bin/git"])).toBe("Used by git · 3 minutes ago");
    expect(used([])).toBeNull();
  });
});
