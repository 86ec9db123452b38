import { tick } from "svelte";
import { toErrorPayload } from "./errors";

type Messages<F extends string> = Partial<Record<F, string>>;

/**
 * A form's save and what it says when the save fails: a message next to each field at fault,
 * or one at the top for what names no field, with the keyboard moved to it.
 * `F`: a field as the engine names it in `ErrorPayload.field`.
 */
export class FormState<F extends string> {
  errors = $state<Messages<F>>({});
  top = $state<string | null>(null);
  /** The top message's element, bound by FormError. */
  topElement = $state<HTMLElement>();
  saving = $state(false);

  readonly #prefix: string;
  readonly #fields: () => readonly F[];
  readonly #clearOnInput: boolean;

  /**
   * `prefix` starts the id of every input; `fields` are those the form shows now, in form order
   * (the engine may name a field the form does not show); with `clearOnInput` a field's message
   * goes as soon as the person edits the field.
   */
  constructor(prefix: string, fields: () => readonly F[], { clearOnInput = false } = {}) {
    this.#prefix = prefix;
    this.#fields = fields;
    this.#clearOnInput = clearOnInput;
  }

  inputId(field: F): string {
    return `${this.#prefix}-${field}`;
  }

  edited(field: F): void {
    if (this.#clearOnInput && this.errors[field]) this.errors = { ...this.errors, [field]: undefined };
  }

  /** Shows these messages; the keyboard goes to the first field at fault, else to the top message. */
  async show(errors: Messages<F>, top: string | null = null): Promise<void> {
    this.errors = errors;
    this.top = top;
    await tick();
    // Looked up once rendered: the message, and so its element, may be new.
    const first = this.#fields().find((field) => errors[field] !== undefined);
    (first ? document.getElementById(this.inputId(first)) : this.topElement)?.focus();
  }

  /**
   * Runs `work` with `saving` set. What the engine refuses is shown next to the field it names
   * when the form shows that field (`reveal` first opens whatever hides it), else at the top.
   */
  async save(work: () => Promise<void>, reveal?: (field: F) => void): Promise<void> {
    this.errors = {};
    this.top = null;
    this.saving = true;
    try {
      await work();
    } catch (failure) {
      const error = toErrorPayload(failure);
      const field = this.#fields().find((shown) => shown === error.field);
      if (field) {
        reveal?.(field);
        await this.show({ [field]: error.message } as Messages<F>);
      } else {
        await this.show({}, error.message);
      }
    } finally {
      this.saving = false;
    }
  }
}
