import type { FeedMessage } from './api-types.js';
import { parseFeedMessage } from './feed-message.js';
import { reconnectDelayMs } from './backoff.js';

/**
 * connected: authenticated and the snapshot arrived; reconnecting: trying again after a drop;
 * offline: not trying right now (no token, token rejected, browser offline, or many failures in a row).
 */
export type ConnectionState = 'connected' | 'reconnecting' | 'offline';

/** docs/api.md: a bad or missing token closes the feed with 4401. */
const CLOSE_UNAUTHORIZED = 4401;
/** After this many failed attempts in a row the indicator says offline (retries continue at the backoff cap). */
const ATTEMPTS_BEFORE_OFFLINE = 6;

export interface FeedEvents {
  onMessage(message: FeedMessage): void;
  onState(state: ConnectionState, detail: string): void;
}

/** The live feed: first-message auth, automatic reconnect with backoff, and a state for the indicator. */
export class FeedConnection {
  private socket: WebSocket | null = null;
  private timer: number | undefined;
  private attempt = 0;
  private token = '';

  constructor(private readonly url: string, private readonly events: FeedEvents) {
    addEventListener('online', () => this.token && this.reconnectNow());
    addEventListener('offline', () => this.events.onState('offline', 'the browser is offline'));
  }

  start(token: string): void {
    this.token = token;
    this.attempt = 0;
    this.reconnectNow();
  }

  stop(detail: string): void {
    this.token = '';
    this.drop();
    this.events.onState('offline', detail);
  }

  private reconnectNow(): void {
    this.drop();
    this.open();
  }

  private drop(): void {
    clearTimeout(this.timer);
    if (!this.socket) return;
    const old = this.socket;
    this.socket = null;
    old.onclose = old.onmessage = old.onopen = old.onerror = null;
    old.close();
  }

  private open(): void {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: 'auth', token: this.token }));
    socket.onmessage = (event) => this.receive(event);
    socket.onclose = (event) => this.closed(socket, event.code);
  }

  private receive(event: MessageEvent): void {
    if (typeof event.data !== 'string') return;
    const message = parseFeedMessage(event.data);
    if (!message) return;
    if (message.type === 'snapshot') {
      this.attempt = 0;
      this.events.onState('connected', 'live');
    }
    this.events.onMessage(message);
  }

  private closed(socket: WebSocket, code: number): void {
    if (socket !== this.socket) return;
    this.socket = null;
    if (code === CLOSE_UNAUTHORIZED) {
      this.events.onState('offline', 'the daemon rejected the token');
      return;
    }
    const delay = reconnectDelayMs(this.attempt++);
    const state = this.attempt > ATTEMPTS_BEFORE_OFFLINE || !navigator.onLine ? 'offline' : 'reconnecting';
    this.events.onState(state, `retrying in ${Math.ceil(delay / 1000)} s`);
    this.timer = setTimeout(() => this.open(), delay) as unknown as number;
  }
}
