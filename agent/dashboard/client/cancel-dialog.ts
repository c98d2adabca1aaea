import { byId } from './dom.js';

/** Asks before cancelling (a modal <dialog>: focus is trapped, Escape keeps the job running). */
export function confirmCancel(jobId: string, destination: string): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('cancel-dialog');
  byId('cancel-text').textContent =
    `Job ${jobId} stops, its unfinished multipart upload to ${destination} is aborted, and the job ends as cancelled.`;
  return new Promise((resolve) => {
    dialog.returnValue = '';
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'cancel'), { once: true });
    dialog.showModal();
  });
}
