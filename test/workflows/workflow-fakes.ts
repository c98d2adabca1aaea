import { join } from 'node:path';
import type { AwsConnection } from '../../agent/cloud/aws/aws-clients.js';
import type { CloudTaskStatus } from '../../agent/cloud/task-events.js';
import { DEFAULTS } from '../../agent/config/schema.js';
import { ProgressTracker } from '../../agent/core/progress.js';
import { FileCheckpointStore } from '../../agent/checkpoint/checkpoint-store.js';
import { isUploadCheckpoint, type UploadCheckpoint } from '../../agent/transfer/upload-checkpoint.js';
import type { StepJournal, WorkflowPorts } from '../../agent/workflows/ports.js';
import { sinkFactory } from '../../agent/workflows/sink-factory.js';
import type { Ec2QueryFake } from '../helpers/ec2-query-fake/server.js';

export const POLL = { initialIntervalMs: 2, maxIntervalMs: 5, factor: 1.5, timeoutMs: 10_000 };

export function awsConnection(fake: Ec2QueryFake, region = 'eu-west-1'): AwsConnection {
  return { region, endpoint: fake.url, credentials: { accessKeyId: 'AKIDFAKEFAKE', secretAccessKey: 'fake-secret' }, retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 4 } };
}

/** The ports of one run against the EC2 Query API protocol fake (S3 objects on the fake too); what the reporter heard. */
export function fakePorts(fake: Ec2QueryFake, journal: StepJournal, signal = new AbortController().signal) {
  const statuses: CloudTaskStatus[] = [];
  const phases: string[] = [];
  const outcomes: unknown[] = [];
  const config = { ...DEFAULTS, stores: { ...DEFAULTS.stores, s3_endpoint: fake.url, s3_region: 'eu-west-1', s3_path_style: true } };
  const ports: WorkflowPorts = {
    journal,
    sinks: sinkFactory(config, { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } }),
    // A restart keeps what the cloud runs: no abort here cancels a task (a daemon stopping, a kill -9).
    cloud: { connections: { aws: awsConnection(fake) }, poll: POLL, cancelOnAbort: () => false },
    reporter: {
      phase: (p) => phases.push(p),
      validated: () => undefined,
      guest: () => undefined,
      cloudTask: (s) => statuses.push(s),
      outcome: (o) => outcomes.push(o),
    },
    progress: new ProgressTracker(),
    signal,
  };
  return { ports, statuses, phases, outcomes };
}

/** A journal that dies (like a kill -9) right after it recorded `name`: the run stops, the journal keeps the note. */
export function dyingAfter(journal: StepJournal, name: string, die: () => void): StepJournal {
  return {
    once: (n, fn) => journal.once(n, fn),
    note: async (n, v) => {
      await journal.note(n, v);
      if (n === name) die();
    },
    read: (n) => journal.read(n),
  };
}

export function uploadCheckpoints(dir: string): FileCheckpointStore<UploadCheckpoint> {
  return new FileCheckpointStore<UploadCheckpoint>(join(dir, 'checkpoints'), isUploadCheckpoint);
}
