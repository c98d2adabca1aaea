import { AgentsTable } from './agents-table.js';
import { ApiClient } from './api-client.js';
import type { FeedMessage, Job } from './api-types.js';
import { showConnectionState } from './connection-indicator.js';
import { byId } from './dom.js';
import { FeedConnection } from './feed-connection.js';
import { FrameBatcher } from './frame-batcher.js';
import { JobStore } from './job-store.js';
import { JobView } from './job-view.js';
import { JobsTable } from './jobs-table.js';
import { installJobsControls } from './jobs-controls.js';
import { SubmitForm } from './submit-form.js';
import { forgetToken, readToken, saveToken } from './token-store.js';

/** Wires the page: token → feed → store → (one rAF batch) → table and job view. */
function start(): void {
  const store = new JobStore();
  const api = new ApiClient(readToken);
  const acceptJob = (job: Job) => store.acceptReply(job);
  const view = new JobView(api, acceptJob, (id) => store.get(id));
  const table = new JobsTable(store, byId('jobs-body'), byId('jobs-count'), (id) => void view.open(id));
  const batch = new FrameBatcher((dirty, all) => {
    table.render(dirty, all);
    const open = view.openId && store.get(view.openId);
    if (open && (all || dirty.has(open.id))) view.update(open);
  });
  store.onChange((change) => (change.kind === 'all' ? batch.markAll() : batch.mark(change.id)));
  installJobsControls(table, () => batch.markAll());
  new SubmitForm(api, acceptJob);
  const agents = new AgentsTable(byId('agents-table'), byId('agents-count'));
  const feed = new FeedConnection(feedUrl(), {
    onMessage: (message: FeedMessage) => {
      if (message.type === 'parts') view.applyParts(message.id, message.parts);
      else if (message.type === 'agents') agents.set(message.agents);
      else store.apply(message);
    },
    onState: showConnectionState,
  });
  installTokenForm(feed);
}

function feedUrl(): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/v1/feed`;
}

function installTokenForm(feed: FeedConnection): void {
  const input = byId<HTMLInputElement>('token-input');
  byId<HTMLFormElement>('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!input.value.trim()) return;
    saveToken(input.value.trim());
    input.value = '';
    feed.start(readToken());
  });
  byId('token-forget').addEventListener('click', () => {
    forgetToken();
    feed.stop('no token');
  });
  if (readToken()) feed.start(readToken());
  else showConnectionState('offline', 'enter the API token to connect');
}

start();
