import type { EcsConnection } from './ecs-clients.js';
import { AlibabaCredential } from './alibaba-credentials.js';

/**
 * An ECS connection from a region and an optional endpoint override (a bare host, or a URL whose
 * scheme picks the protocol). Credentials come from the @alicloud/credentials default chain
 * (environment with ALIBABA_CLOUD_SECURITY_TOKEN, OIDC, CLI profile, credentials file, ECS RAM role,
 * credentials URI), resolved on the first call and shared by the connection's ECS, RAM and OSS clients.
 */
export function ecsConnectionFor(region: string, endpoint: string | undefined): EcsConnection {
  const url = endpoint && /^https?:\/\//.test(endpoint) ? new URL(endpoint) : undefined;
  return {
    region,
    endpoint: url ? url.host : endpoint,
    protocol: url ? (url.protocol.replace(':', '') as 'http' | 'https') : undefined,
    credential: new AlibabaCredential(),
  };
}
