import { createRequire } from 'node:module';
import type CredentialsModule from '@alicloud/credentials';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';

/** An AccessKey pair, with the STS SecurityToken when the pair is temporary. */
export interface AlibabaKeys {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
}

/** Keys given explicitly (options, flags); absent ones fall back to the default chain. */
export interface ExplicitAlibabaKeys {
  accessKeyId?: string | undefined;
  accessKeySecret?: string | undefined;
  securityToken?: string | undefined;
}

/** The default chain of @alicloud/credentials (providers/default.js), in the order it tries them. */
export const ALIBABA_CREDENTIAL_SOURCES =
  'ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET (with ALIBABA_CLOUD_SECURITY_TOKEN for STS), OIDC (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE), ' +
  'the Alibaba Cloud CLI profile (~/.aliyun/config.json, ALIBABA_CLOUD_PROFILE), the credentials file (ALIBABA_CLOUD_CREDENTIALS_FILE or ~/.alibabacloud/credentials), ' +
  'the ECS instance RAM role (instance metadata), ALIBABA_CLOUD_CREDENTIALS_URI';

type Credential = InstanceType<typeof CredentialsModule.default>;
type CredentialModel = Awaited<ReturnType<Credential['getCredential']>>;

/**
 * One credential for every Alibaba client of a connection (ECS, RAM, OSS): the explicit pair (type
 * access_key, or sts with a SecurityToken), else the default chain, which caches what it found and
 * refreshes temporary credentials (RAM role, credentials URI, OIDC) before they expire (providers/session.js:
 * a refresh once fewer than 15 minutes remain). A chain that finds nothing is CLOUD_NO_CREDENTIALS.
 */
export class AlibabaCredential {
  private readonly inner: Credential;

  constructor(explicit: ExplicitAlibabaKeys = {}) {
    // Required, not imported: the package is CommonJS with a default export class.
    const m = createRequire(import.meta.url)('@alicloud/credentials') as typeof CredentialsModule;
    const { accessKeyId, accessKeySecret, securityToken } = explicit;
    this.inner = accessKeyId && accessKeySecret
      ? new m.default(new m.Config({ type: securityToken ? 'sts' : 'access_key', accessKeyId, accessKeySecret, securityToken }))
      : new m.default();
  }

  /** What openapi-core's client asks for before signing each request (client.js callApi). */
  async getCredential(): Promise<CredentialModel> {
    try {
      return await this.inner.getCredential();
    } catch (err) {
      throw vmxError(CLOUD.NO_CREDENTIALS, `no Alibaba Cloud credentials: none of the sources the default chain tries had any (${ALIBABA_CREDENTIAL_SOURCES}); the chain said: ${(err as Error).message}`, { cause: err });
    }
  }

  async keys(): Promise<AlibabaKeys> {
    const c = await this.getCredential();
    return { accessKeyId: c.accessKeyId ?? '', accessKeySecret: c.accessKeySecret ?? '', securityToken: c.securityToken || undefined };
  }

  // The deprecated per-field getters some openapi-core paths still call (client.js getAccessKeyId, ...).
  async getAccessKeyId(): Promise<string> {
    return (await this.keys()).accessKeyId;
  }

  async getAccessKeySecret(): Promise<string> {
    return (await this.keys()).accessKeySecret;
  }

  async getSecurityToken(): Promise<string> {
    return (await this.keys()).securityToken ?? '';
  }

  getBearerToken(): string {
    return '';
  }

  getType(): string {
    return this.inner.getType();
  }
}
