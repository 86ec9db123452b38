import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import App from "../App.svelte";
import * as ipc from "./fakeIpc";

vi.mock("../lib/ipc", () => import("./fakeIpc"));

describe("Activity", () => {
  beforeEach(() => {
    ipc.resetIpc();
    ipc.listActivity.mockResolvedValue([
      { id: "3", at: "2026-11-23T21:00:00Z", kind: "needs_reauthorization", subject: "Work mail", detail: "Local OP said the grant is no longer valid", program: null },
      { id: "2", at: "2026-11-23T20:30:00Z", kind: "credential_refreshed", subject: "Work mail", detail: null, program: null },
      { id: "1", at: "2026-11-23T20:00:00Z", kind: "credential_created", subject: "Work mail", detail: null, program: null },
    ]);
  });

  it("lists events in plain words and filters them by kind", async () => {
    const user = userEvent.setup();
    render(App);
    await user.click(await screen.findByTestId("nav-activity"));

    const rows = await screen.findAllByTestId("activity-row");
    expect(rows.map((r) => within(r).getByText(/Connected|Tokens refreshed|Needs reauthorization/).textContent)).toEqual([
      "Needs reauthorization",
      "Tokens refreshed",
      "Connected",
    ]);
    expect(rows[0]?.textContent).toContain("Local OP said the grant is no longer valid");

    await user.selectOptions(screen.getByTestId("activity-filter"), "credential_refreshed");
    expect(screen.getAllByTestId("activity-row")).toHaveLength(1);
  });
});
