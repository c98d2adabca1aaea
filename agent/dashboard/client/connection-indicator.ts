import type { ConnectionState } from './feed-connection.js';
import { byId, setText } from './dom.js';

const LABELS: Record<ConnectionState, string> = {
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

/** The visible, screen-reader-announced (role=status, aria-live) connection state. */
export function showConnectionState(state: ConnectionState, detail: string): void {
  const root = byId('connection');
  root.dataset.state = state;
  setText(byId('connection-text'), LABELS[state]);
  setText(byId('connection-detail'), detail);
}
