import { openDisk } from '../../formats/detect.js';
import { imageFactsFromInfo } from '../preflight/facts-from-disk.js';
import type { ImageFacts } from '../preflight/image-facts.js';

/** The preflight's facts about an upload's source, from its headers only (no data is read). */
export async function sourceFacts(path: string, opts: { format?: string | undefined; parent?: string | undefined; signal?: AbortSignal | undefined } = {}): Promise<ImageFacts> {
  const disk = await openDisk(path, opts);
  try {
    return imageFactsFromInfo(path, disk.info);
  } finally {
    await disk.close();
  }
}
