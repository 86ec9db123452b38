import { describe, expect, it } from "vitest";
import { relativeTime } from "./format";

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
});
