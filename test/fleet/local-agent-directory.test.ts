import { LocalAgentDirectory } from '../../agent/fleet/local-agent-directory.js';
import { agentDirectoryConformance } from './agent-directory-conformance.js';

// The embedded store's directory: each daemon alone, so every directory is a backing of its own.
agentDirectoryConformance('local', async () => ({
  open: async () => new LocalAgentDirectory(),
  dispose: async () => undefined,
}));
