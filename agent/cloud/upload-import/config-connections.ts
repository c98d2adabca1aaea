import type { AgentConfig } from '../../config/schema.js';
import { ecsConnectionFor } from '../ecs/ecs-connection.js';
import { DEFAULT_CLOUD_RETRY, type CloudRetryPolicy } from '../cloud-retry.js';
import type { CloudConnections } from './import-step-params.js';

/**
 * The daemon's cloud connections from the `cloud` section: each region falls back to its store's
 * (an OSS region oss-cn-hangzhou is the ECS region cn-hangzhou), then to the SDK's environment.
 * S3 calls (export bucket checks) go to the store's endpoint, EC2 and IAM to the cloud's.
 */
export function connectionsFromConfig(config: AgentConfig): CloudConnections {
  const c = config.cloud;
  const awsRegion = c.aws_region || config.stores.s3_region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  const ecsRegion = c.ecs_region || config.stores.oss_region.replace(/^oss-/, '') || process.env.ALIBABA_CLOUD_REGION_ID;
  const retry: CloudRetryPolicy = { ...DEFAULT_CLOUD_RETRY, attempts: c.retries, requestTimeoutMs: c.request_timeout_seconds * 1000 };
  return {
    aws: awsRegion ? { region: awsRegion, endpoint: c.aws_endpoint || undefined, s3Endpoint: config.stores.s3_endpoint || undefined, retry } : undefined,
    ecs: ecsRegion ? { ...ecsConnectionFor(ecsRegion, c.ecs_endpoint || undefined), retry } : undefined,
  };
}
