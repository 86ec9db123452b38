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
  it("says what Intl's English says, from a minute to centuries, back and ahead", () => {
    // Node's ICU is the other implementation to agree with; each count stays in its unit.
    const intl = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
    const units: [Intl.RelativeTimeFormatUnit, number, number[]][] = [
      ["minute", 60, [1, 2, 59]],
      ["hour", 3600, [1, 2, 23]],
      ["day", 86400, [1, 2, 6]],
      ["week", 7 * 86400, [1, 2, 4]],
      ["month", 30 * 86400, [1, 2, 12]],
      ["year", 365 * 86400, [1, 2, 21, 1234]],
    ];
    for (const [unit, size, counts] of units) {
      for (const count of counts.flatMap((n) => [n, -n])) {
        const at = new Date(now.getTime() + count * size * 1000).toISOString();
        expect(relativeTime(at, now)).toBe(intl.format(count, unit));
      }
    }
  });
  it("speaks English, as the rest of the window, and starts no ICU: no Intl at all", async () => {
    // Its first use costs the first frame 10–35 ms, and a German system's default would
    // say "vor 3 Minuten".
    vi.stubGlobal("Intl", new Proxy({}, { get: (_, name) => { throw new Error(`Intl.${String(name)} used`); } }));
    const localeCompare = vi.spyOn(String.prototype, "localeCompare");
    vi.resetModules();
    try {
      const fresh = await import("./format");
      const filter = await import("./connectionFilter");
      expect(fresh.relativeTime("2026-11-30T11:57:00Z", now)).toBe("3 minutes ago");
      const at = (provider_id: string, provider: string) => connection({ provider_id, provider });
      const providers = filter.providersOf([at("z", "Zoom"), at("g", "github"), at("a", "Atlassian"), at("b", "GitHub Enterprise")]);
      expect(providers.map((p) => p.name)).toEqual(["Atlassian", "github", "GitHub Enterprise", "Zoom"]);
      expect(localeCompare).not.toHaveBeenCalled();
    } finally {
      vi.unstubAllGlobals();
      localeCompare.mockRestore();
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
