import { AlibabaCredential } from '../../cloud/ecs/alibaba-credentials.js';
import { ossKeyPair, type OssSinkOptions } from './oss-config.js';

/**
 * The OSS sink's options with credentials from the Alibaba Cloud default chain when neither the
 * options nor OSS_ACCESS_KEY_* / ALIBABA_CLOUD_ACCESS_KEY_* name a key pair: the keys it resolves now
 * (an STS SecurityToken with them), refreshed through the same credential while the sink lives.
 */
export async function withChainCredentials(opts: OssSinkOptions, credential?: AlibabaCredential): Promise<OssSinkOptions> {
  const pair = ossKeyPair(opts);
  if (pair.accessKeyId && pair.accessKeySecret) return opts;
  const chain = credential ?? new AlibabaCredential();
  const k = await chain.keys();
  return { ...opts, accessKeyId: k.accessKeyId, accessKeySecret: k.accessKeySecret, securityToken: k.securityToken, refreshCredentials: k.securityToken ? () => chain.keys() : undefined };
}
