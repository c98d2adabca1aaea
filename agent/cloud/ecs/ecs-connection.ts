import type { EcsConnection } from './ecs-clients.js';

/**
 * An ECS connection from a region and an optional endpoint override (a bare host, or a URL whose
 * scheme picks the protocol); the AccessKey pair comes from ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET.
 */
export function ecsConnectionFor(region: string, endpoint: string | undefined): EcsConnection {
  const url = endpoint && /^https?:\/\//.test(endpoint) ? new URL(endpoint) : undefined;
  return {
    region,
    endpoint: url ? url.host : endpoint,
    protocol: url ? (url.protocol.replace(':', '') as 'http' | 'https') : undefined,
    accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
  };
}
