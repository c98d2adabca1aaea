import type { AgentConfig } from '../config/schema.js';
import { connectionFor } from '../config/store-profiles.js';
import { openBucketSink, openSink, type StoreConnection } from '../sinks/open-sink.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../sinks/retrying-sink.js';
import type { ObjectSink } from '../sinks/object-sink.js';
import type { SinkFactory } from './ports.js';

/** What a command line adds to the configuration: `--store` and the connection flags, which win. */
export interface StoreChoice {
  profile?: string | undefined;
  overrides?: Partial<StoreConnection> | undefined;
}

export interface SinkFactoryOptions extends StoreChoice {
  retry?: RetryPolicy | undefined;
  /** A decorator every sink passes through (the daemon's part board and metrics). */
  wrap?: ((sink: ObjectSink) => ObjectSink) | undefined;
}

/**
 * The one place a sink is built, for the CLI and the daemon alike: the URL's store connection is the
 * flags, then the `--store` or URL-matched store profile, then the configuration's `stores` section.
 */
export function sinkFactory(config: AgentConfig, options: SinkFactoryOptions = {}): SinkFactory {
  const connection = (url: string): StoreConnection => ({ ...connectionFor(url, config, options.profile), ...options.overrides });
  const retry = options.retry ?? DEFAULT_RETRY;
  const wrap = options.wrap ?? ((s: ObjectSink) => s);
  return {
    async open(url, signing) {
      const { sink, key } = await openSink(url, { ...connection(url), ...signing }, retry);
      return { sink: wrap(sink), key };
    },
    async openBucket(url, listPageSize) {
      const { sink, prefix } = await openBucketSink(url, { ...connection(url), ...(listPageSize !== undefined && { listPageSize }) }, retry);
      return { sink: wrap(sink), prefix };
    },
  };
}
