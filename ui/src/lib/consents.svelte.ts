import type { ConsentAnswer, ConsentRequest, EngineEvent } from "../bindings";
import * as ipc from "./ipc";

/** Programs' requests for tokens that wait for the person's answer, oldest first. */
export class Consents {
  requests = $state.raw<ConsentRequest[]>([]);

  async load(): Promise<void> {
    this.requests = await ipc.commands.pendingConsents();
  }

  /** Follows the engine: a new request is added, an answered or withdrawn one goes. */
  receive(event: EngineEvent): void {
    if (event.kind === "consent_requested" && !this.requests.some((r) => r.id === event.request.id)) {
      this.requests = [...this.requests, event.request];
    } else if (event.kind === "consent_ended") {
      this.requests = this.requests.filter((r) => r.id !== event.id);
    }
  }

  /** Rejects with an ErrorPayload (the request may have ended meanwhile). */
  async answer(request: ConsentRequest, answer: ConsentAnswer): Promise<void> {
    this.requests = this.requests.filter((r) => r.id !== request.id);
    await ipc.commands.answerConsent(request.id, answer);
  }
}
