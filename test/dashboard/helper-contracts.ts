import type { S3Client } from '@aws-sdk/client-s3';

/**
 * The helpers the end-to-end dashboard tests need, typed from their contracts: test/helpers/daemon.ts
 * (docs/api.md "Test helper contract", built on the daemon branch) and test/helpers/rgw.ts (the S3
 * branch). They are loaded at run time so this branch compiles before they are merged; a missing
 * helper makes the tests FAIL with the import error, never skip.
 */
export interface DaemonHandle {
  url: string;
  token: string;
  stateDir: string;
  pid: number;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  stop(): Promise<number>;
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Everything the daemon wrote to stdout and stderr so far. */
  output(): string;
}

export type StartDaemon = (opts?: {
  stateDir?: string;
  sourceRoots?: string[];
  env?: Record<string, string>;
  config?: Record<string, unknown>;
}) => Promise<DaemonHandle>;

export interface RgwEnv {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface TestBucket {
  name: string;
  client: S3Client;
  remove(): Promise<void>;
}

export interface RgwHelper {
  ensureRgw(): Promise<RgwEnv>;
  createTestBucket(env: RgwEnv, label: string): Promise<TestBucket>;
}

export async function loadStartDaemon(): Promise<StartDaemon> {
  return ((await importHelper('daemon', 'the daemon branch, issue 6')) as { startDaemon: StartDaemon }).startDaemon;
}

export async function loadRgw(): Promise<RgwHelper> {
  return (await importHelper('rgw', 'the s3 branch')) as RgwHelper;
}

async function importHelper(name: string, from: string): Promise<unknown> {
  const specifier = `../helpers/${name}.js`;
  try {
    return await import(specifier);
  } catch (cause) {
    throw new Error(`test/helpers/${name}.ts is required by the dashboard's end-to-end tests (merge ${from}): ${(cause as Error).message}`, { cause });
  }
}
