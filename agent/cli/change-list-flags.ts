import { readChangedExtentList, type ChangedExtentList } from '../incremental/changed-blocks/extent-list.js';
import { changedSinceBitmap } from '../incremental/changed-blocks/qcow2-bitmap.js';

/** The change list that --changed-blocks FILE or --changed-since BITMAP (of SRC) gives, if either. */
export async function changeListFlags(src: string, values: Record<string, unknown>): Promise<ChangedExtentList | undefined> {
  if (values['changed-blocks'] !== undefined) return readChangedExtentList(values['changed-blocks'] as string);
  if (values['changed-since'] !== undefined) return changedSinceBitmap(src, values['changed-since'] as string);
  return undefined;
}
