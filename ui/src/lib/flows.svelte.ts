import type { EngineEvent, ErrorPayload, FlowStarted } from "../bindings";
import { toErrorPayload } from "./errors";
import * as ipc from "./ipc";

export type PendingFlow = {
  flowId: string;
  providerId: string;
  providerName: string;
  authorizeUrl: string;
  expiresAt: string;
  /** Why the browser could not be opened: the person opens the link by hand. */
  browserError: string | null;
};

export type FlowEnd = Extract<EngineEvent, { kind: "flow_completed" | "flow_failed" }>;

type FlowHooks = {
  announce: (text: string) => void;
  /** The rest of the window's part in a flow's end; `flow` is no longer pending. */
  ended: (flow: PendingFlow, end: FlowEnd) => Promise<void>;
};

/** The sign-in the window waits for: started here, ended by the engine's event or by Cancel. */
export class Flows {
  flow = $state.raw<PendingFlow | null>(null);

  readonly #hooks: FlowHooks;
  #connecting = 0;
  // A fast browser can finish the sign-in before `connect` itself has answered.
  #earlyEnds = new Map<string, FlowEnd>();

  constructor(hooks: FlowHooks) {
    this.#hooks = hooks;
  }

  /**
   * Resolves to the error when the sign-in could not start. `signsInAt`: who the person
   * signs in with, where the window knows it better than the provider's record does.
   */
  async start(begin: () => Promise<FlowStarted>, signsInAt?: string): Promise<ErrorPayload | null> {
    this.#connecting += 1;
    try {
      const started = await begin();
      const flow: PendingFlow = {
        flowId: started.flow_id,
        providerId: started.provider_id,
        providerName: signsInAt ?? started.provider_name,
        authorizeUrl: started.authorize_url,
        expiresAt: started.expires_at,
        browserError: started.browser_error,
      };
      this.flow = flow;
      this.#hooks.announce(`Finish signing in to ${flow.providerName} in your browser`);
      const early = this.#earlyEnds.get(flow.flowId);
      if (early) void this.#end(flow, early);
      return null;
    } catch (error) {
      return toErrorPayload(error);
    } finally {
      this.#connecting -= 1;
      if (this.#connecting === 0) this.#earlyEnds.clear();
    }
  }

  /** An engine event that ends a flow; false when it is about no flow of this window. */
  receive(end: FlowEnd): boolean {
    if (this.flow?.flowId === end.flow_id) void this.#end(this.flow, end);
    else if (this.#connecting > 0) this.#earlyEnds.set(end.flow_id, end);
    else return false;
    return true;
  }

  /**
   * Finishes the sign-in with the address a browser on another device ended on. Rejects
   * with the engine's error when it is not this sign-in's; the sign-in goes on waiting.
   */
  async answer(address: string): Promise<void> {
    if (this.flow) await ipc.commands.answerFlow(this.flow.flowId, address);
  }

  /** Asks the engine how the awaited sign-in ended, when its end event may have been missed. */
  async catchUp(): Promise<void> {
    const flow = this.flow;
    if (!flow) return;
    const end = await ipc.commands.flowEnd(flow.flowId).catch(() => null);
    if (end && (end.kind === "flow_completed" || end.kind === "flow_failed")) this.receive(end);
  }

  async cancel(): Promise<void> {
    const flow = this.flow;
    if (!flow) return;
    let error: ErrorPayload = { code: "flow_cancelled", message: "Sign-in cancelled.", field: null };
    try {
      await ipc.commands.cancelFlow(flow.flowId);
    } catch (rejection) {
      error = toErrorPayload(rejection);
    }
    // The engine's own flow_failed may have ended it already.
    if (this.flow?.flowId === flow.flowId) {
      await this.#end(flow, { kind: "flow_failed", flow_id: flow.flowId, error });
    }
  }

  async #end(flow: PendingFlow, end: FlowEnd): Promise<void> {
    this.flow = null;
    await this.#hooks.ended(flow, end);
  }
}
