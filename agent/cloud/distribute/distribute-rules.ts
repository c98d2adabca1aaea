import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../error-codes.js';
import { awsEncryptionRules, ecsEncryptionRules } from '../preflight/encryption-rules.js';
import { formatFinding, type Finding } from '../preflight/finding.js';
import { ecsDescriptionRules, ecsImageNameRules } from '../preflight/name-rules.js';
import { ECS_SHARE_MAX } from './share-limits.js';
import type { Cloud, CopyRequest, DistributeRequest } from './distribute-options.js';

/** One thing wrong with a copy/share request: the field (as the API names it under `import.`) and why. */
export interface DistributeProblem {
  field: string;
  kind: 'copy' | 'share' | 'share-limit';
  message: string;
}

/** us-east-1, us-gov-west-1, ap-southeast-2 (EC2 region codes); cn-hangzhou, ap-southeast-1, eu-central-1 (ECS RegionId). */
const REGION = { aws: /^[a-z]{2}(-[a-z]+)+-\d+$/, ecs: /^[a-z]{2}(-[a-z0-9]+)+$/ } as const;
/** EC2 account ids are 12 digits (InvalidUserID.Malformed); Alibaba Cloud account ids are digits. */
const ACCOUNT = { aws: /^\d{12}$/, ecs: /^\d{1,20}$/ } as const;
/** EC2 CopyImage Name: 3-128 letters, digits, ( ) [ ] space . / - ' @ _ (EC2 API reference, CopyImage Name). */
const AMI_NAME = /^[A-Za-z0-9()[\] ./'@_-]{3,128}$/;

function fromFindings(field: string, kind: DistributeProblem['kind'], findings: Finding[]): DistributeProblem[] {
  return findings.filter((f) => f.severity === 'error').map((f) => ({ field, kind, message: formatFinding(f) }));
}

function copyProblems(cloud: Cloud, c: CopyRequest, field: string, sourceRegion: string | undefined): DistributeProblem[] {
  const out: DistributeProblem[] = [];
  const bad = (sub: string, message: string) => out.push({ field: `${field}.${sub}`, kind: 'copy', message });
  if (!REGION[cloud].test(c.region)) bad('region', `"${c.region}" is not ${cloud === 'aws' ? 'an EC2 region code (e.g. eu-west-1)' : 'an ECS region id (e.g. cn-shanghai)'}`);
  if (c.region === sourceRegion) bad('region', `is the source region ${sourceRegion}; a copy goes to another region`);
  if (cloud === 'aws' && c.name !== undefined && !AMI_NAME.test(c.name)) bad('name', `[InvalidAMIName.Malformed] "${c.name}" is not 3-128 letters, digits, spaces or ( ) [ ] . / - ' @ _`);
  if (cloud === 'ecs') {
    out.push(...fromFindings(`${field}.name`, 'copy', ecsImageNameRules(c.name, 'ecs-copy-name')));
    out.push(...fromFindings(`${field}.description`, 'copy', ecsDescriptionRules(c.description)));
  }
  if (cloud === 'aws' && c.encryptAlgorithm !== undefined) bad('encryptAlgorithm', 'is an ECS CopyImage parameter; EC2 CopyImage encrypts with KMS (kmsKeyId)');
  // The encryption rules' finding names the field that was set without Encrypted.
  const encryptionField = c.kmsKeyId === undefined && c.encryptAlgorithm !== undefined ? 'encryptAlgorithm' : 'kmsKeyId';
  out.push(...fromFindings(`${field}.${encryptionField}`, 'copy', cloud === 'aws' ? awsEncryptionRules(c) : ecsEncryptionRules(c)));
  return out;
}

/**
 * The whole copy/share request checked before anything runs: regions well-formed, distinct and not the
 * source region, names and descriptions by the cloud's rules, KMS key only with encryption, accounts
 * well-formed, at most 50 per ECS image, community publishing on ECS only.
 */
export function distributeProblems(cloud: Cloud, req: DistributeRequest, sourceRegion?: string): DistributeProblem[] {
  const out: DistributeProblem[] = [];
  const copies = req.copies ?? [];
  copies.forEach((c, i) => out.push(...copyProblems(cloud, c, `copy[${i}]`, sourceRegion)));
  const seen = new Set<string>();
  copies.forEach((c, i) => {
    if (seen.has(c.region)) out.push({ field: `copy[${i}].region`, kind: 'copy', message: `${c.region} is named twice; one copy per region` });
    seen.add(c.region);
  });
  const share = req.share;
  if (!share) return out;
  const accounts = [...new Set(share.accounts)];
  for (const a of accounts) {
    if (!ACCOUNT[cloud].test(a)) out.push({ field: 'share.accounts', kind: 'share', message: `"${a}" is not ${cloud === 'aws' ? 'a 12-digit AWS account id' : 'an Alibaba Cloud account id (digits)'}` });
  }
  if (cloud === 'ecs' && accounts.length > ECS_SHARE_MAX) {
    out.push({ field: 'share.accounts', kind: 'share-limit', message: `[QuotaExceed.ShareImageUser] ${accounts.length} accounts given; ECS shares an image with at most ${ECS_SHARE_MAX}` });
  }
  if (cloud === 'aws' && share.community) {
    out.push({ field: 'share.community', kind: 'share', message: 'is ECS only (publish as a community image); vmxfer does not make AMIs public (launch permission group "all")' });
  }
  if (cloud === 'ecs' && share.community && copies.some((c) => c.encrypted)) {
    out.push({ field: 'share.community', kind: 'share', message: 'an encrypted copy cannot be published as a community image (ModifyImageSharePermission IsPublic); drop encrypted from the copies or community from the share' });
  }
  if (accounts.length === 0 && !share.community) out.push({ field: 'share.accounts', kind: 'share', message: 'names no account' });
  return out;
}

const ERROR_OF = { copy: CLOUD.COPY_RULE, share: CLOUD.SHARE_REFUSED, 'share-limit': CLOUD.SHARE_LIMIT } as const;

/** Throws the typed error of the first problem, listing them all. */
export function refuseDistribute(problems: DistributeProblem[]): void {
  const first = problems[0];
  if (!first) return;
  throw vmxError(ERROR_OF[first.kind], `the copy/share request would be refused:\n${problems.map((p) => `${p.field}: ${p.message}`).join('\n')}`);
}
