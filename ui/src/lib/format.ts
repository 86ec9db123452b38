import type { Connection, ConnectionStatus } from "../bindings";

export const STATUS_LABELS: Record<ConnectionStatus, string> = {
  active: "Active",
  retrying: "Retrying",
  needs_more_access: "Needs more access",
  reauthorize: "Reauthorize",
  pending: "Pending",
};

export const STATUS_HINTS: Record<ConnectionStatus, string> = {
  active: "Signed in; Grantkeeper refreshes its tokens before they expire.",
  retrying: "The provider could not be reached; Grantkeeper will try again by itself.",
  needs_more_access: "This connection needs more access than was granted. Grant access to ask for exactly what is missing.",
  reauthorize: "This sign-in can no longer be used. Reconnect to keep it working.",
  pending: "Waiting for the sign-in to finish.",
};

/** How something reads at a glance; app.css gives each tone its colours (`.tone-…`). */
export type Tone = "ok" | "warn" | "bad" | "info";

export const STATUS_TONES: Record<ConnectionStatus, Tone> = {
  active: "ok",
  retrying: "warn",
  needs_more_access: "warn",
  reauthorize: "bad",
  pending: "info",
};

/** Statuses that only the person can fix, by signing in again. */
export function needsReconnect(status: ConnectionStatus): boolean {
  return status === "reauthorize" || status === "needs_more_access";
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

/**
 * One formatter each, made on first use: toLocaleString with options builds a new one per
 * call, which a list of 200 connections (two dates a row) pays for on every update; and
 * making one loads the locale's ICU data (about 3 MiB in the web process), which a window
 * with no dates to show need not hold.
 */
function once<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}
const dateTime = once(() => new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }));
const time = once(() => new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" }));

export function formatDate(rfc3339: string | null): string | null {
  if (!rfc3339) return null;
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return null;
  return dateTime().format(date);
}

type Unit = "year" | "month" | "week" | "day" | "hour" | "minute";
const UNITS: [Unit, number][] = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["week", 7 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];
/** What English says for one unit back and one ahead, where it has a word ("yesterday"). */
const ONE_AWAY: Partial<Record<Unit, [string, string]>> = {
  day: ["yesterday", "tomorrow"],
  week: ["last week", "next week"],
  month: ["last month", "next month"],
  year: ["last year", "next year"],
};

/**
 * "3 minutes ago", "in 2 hours", "yesterday": the words of `Intl.RelativeTimeFormat("en",
 * { numeric: "auto" })`, written out because every row shows one and the first use of
 * `Intl` costs the first frame 10–35 ms (ICU starting in the web process; BENCHMARKS.md).
 * In English, as every other word in the window; dates keep the person's own format.
 */
function inEnglish(count: number, unit: Unit): string {
  const size = Math.abs(count);
  const word = ONE_AWAY[unit];
  if (size === 1 && word) return count < 0 ? word[0] : word[1];
  const digits = String(size).replace(/\B(?=(\d{3})+$)/g, ",");
  const amount = `${digits} ${unit}${size === 1 ? "" : "s"}`;
  return count < 0 ? `${amount} ago` : `in ${amount}`;
}

/** "3 minutes ago", "in 2 hours", "just now": how far `rfc3339` is from `now`. */
export function relativeTime(rfc3339: string | null, now: Date = new Date()): string | null {
  if (!rfc3339) return null;
  const at = new Date(rfc3339).getTime();
  if (Number.isNaN(at)) return null;
  const seconds = (at - now.getTime()) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return inEnglish(Math.trunc(seconds / size), unit);
  }
  return seconds < 0 ? "just now" : "within a minute";
}

export function formatTime(rfc3339: string): string | null {
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return null;
  return time().format(date);
}

/** Days before a refresh token lapses when the window starts warning. */
export const LAPSE_WARNING_DAYS = 14;

/** Whether a sign-in lapses within the warning window (or has lapsed). */
export function lapsesSoon(rfc3339: string | null, now: Date = new Date()): boolean {
  if (!rfc3339) return false;
  const at = new Date(rfc3339).getTime();
  return !Number.isNaN(at) && at - now.getTime() < LAPSE_WARNING_DAYS * 24 * 3600 * 1000;
}

/** Whether to offer Reconnect before the sign-in lapses (a Reauthorize connection offers it anyway). */
export function lapsing(connection: Connection, now: Date = new Date()): boolean {
  return connection.status !== "reauthorize" && lapsesSoon(connection.refresh_token_expires_at, now);
}

/** "Used by git and 2 others · 3 minutes ago": who the token agent gave the token to. */
export function usedBy(connection: Connection, now: Date = new Date()): string | null {
  const [latest, ...others] = connection.used_by.map((path) => path.split("/").pop() ?? path);
  if (!latest) return null;
  const who = others.length === 0 ? latest : `${latest} and ${others.length} other${others.length === 1 ? "" : "s"}`;
  const when = relativeTime(connection.last_handed_out_at, now);
  return when ? `Used by ${who} · ${when}` : `Used by ${who}`;
}
