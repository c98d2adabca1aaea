import { OUTPUT_FORMATS, type Job } from './api-types.js';
import { ApiRequestError, type ApiClient } from './api-client.js';
import { byId, el, setText } from './dom.js';
import { buildSubmitBody } from './submit-body.js';

/** The submit form: builds the body, posts it, and shows a 400's `field` error next to that field. */
export class SubmitForm {
  private readonly form = byId<HTMLFormElement>('submit-form');
  private readonly formError = byId('submit-form-error');

  constructor(private readonly api: ApiClient, private readonly onJob: (job: Job) => void) {
    const format = byId<HTMLSelectElement>('f-format');
    for (const f of OUTPUT_FORMATS) format.append(el('option', { value: f }, f));
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.submit();
    });
  }

  private async submit(): Promise<void> {
    this.clearErrors();
    const built = buildSubmitBody(this.form);
    if ('error' in built) return this.showFieldError(built.error.field, built.error.message);
    const status = byId('submit-status');
    setText(status, 'Submitting…');
    try {
      const job = await this.api.submit(built.body);
      this.onJob(job);
      setText(status, `Submitted job ${job.id}.`);
    } catch (err) {
      setText(status, '');
      if (err instanceof ApiRequestError && err.error.field) this.showFieldError(err.error.field, err.error.message);
      else this.showFormError((err as Error).message);
    }
  }

  private clearErrors(): void {
    this.formError.hidden = true;
    for (const input of this.form.querySelectorAll<HTMLElement>('[data-field]')) {
      input.removeAttribute('aria-invalid');
      const note = byId(`${input.id}-error`);
      note.hidden = true;
      note.textContent = '';
    }
  }

  /** The API may name a nested field ("options.encryption.kmsKeyId"): the closest enclosing input gets it. */
  private showFieldError(field: string, message: string): void {
    const input = this.inputFor(field);
    if (!input) return this.showFormError(`${field}: ${message}`);
    const note = byId(`${input.id}-error`);
    note.textContent = message;
    note.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    this.form.closest('details')?.setAttribute('open', '');
    input.focus();
  }

  private inputFor(field: string): HTMLElement | null {
    const segments = field.split('.');
    const candidates = segments.map((_, i) => segments.slice(0, segments.length - i).join('.'));
    if (segments[0] !== 'options') candidates.push(`options.${field}`);
    for (const name of candidates) {
      const input = this.form.querySelector<HTMLElement>(`[data-field="${CSS.escape(name)}"]`);
      if (input) return input;
    }
    return null;
  }

  private showFormError(message: string): void {
    this.formError.textContent = message;
    this.formError.hidden = false;
  }
}
