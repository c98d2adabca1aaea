import type { FeedMessage } from './api-types.js';

/**
 * Parses one feed frame; returns null for anything that is not a message type docs/api.md lists,
 * so a newer daemon's extra message types are ignored rather than breaking the page.
 */
export function parseFeedMessage(text: string): FeedMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'snapshot':
      return Array.isArray(m.jobs) ? (m as unknown as FeedMessage) : null;
    case 'job':
      return typeof m.job === 'object' && m.job !== null ? (m as unknown as FeedMessage) : null;
    case 'progress':
      return typeof m.id === 'string' && typeof m.progress === 'object' && m.progress !== null ? (m as unknown as FeedMessage) : null;
    case 'parts':
      return typeof m.id === 'string' && Array.isArray(m.parts) ? (m as unknown as FeedMessage) : null;
    case 'agents':
      return Array.isArray(m.agents) ? (m as unknown as FeedMessage) : null;
    default:
      return null;
  }
}
