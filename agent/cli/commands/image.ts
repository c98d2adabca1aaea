import { distributeWorkflow } from '../../workflows/distribute.js';
import { cliPorts } from '../cli-ports.js';
import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import type { Cloud, DistributeRequest } from '../../cloud/distribute/distribute-options.js';
import { awsConnection, CLOUD_OPTIONS, ecsConnection, requireOption } from '../cloud-connection.js';
import { listFlag } from '../distribute-flags.js';
import { distributeSummary, throwIfShareFailed } from '../distribute-output.js';

export const IMAGE_USAGE = `Usage:
  vmxfer image copy aws|ecs --image-id ID --to-region R[,R...] [--name N] [--description D] [--encrypted [--kms-key-id K] [--encrypt-algorithm A]]
  vmxfer image share aws|ecs --image-id ID --accounts A[,A...] | --community

copy: copies an existing image from --region to each --to-region (EC2 CopyImage in the destination region;
ECS CopyImage from the source region, at most 5 at once per region and one per image at a time), one
ClientToken per destination, and follows each copy until it is available. Ctrl-C stops the copies
(ECS CancelCopyImage; EC2 DeregisterImage of the pending AMI).
share: gives the accounts launch permission (EC2 ModifyImageAttribute) or share permission (ECS
ModifyImageSharePermission, 10 accounts per call; the accounts the image is already shared with count
towards the 50 allowed, checked with DescribeImageSharePermission before any change). --community (ECS
only) publishes the image as a community image; refused for an encrypted image. Each account's outcome
is printed; the exit status is 7 (CLOUD_SHARE_FAILED) when any account failed.
  --image-id ID         the image (ami-… in --region, or m-…)
  --to-region R         destination region (repeatable or a comma list)
  --name N              copy name (AWS default "<ami> copy"; ECS image name rules)
  --description D       copy description
  --encrypted           encrypt the copy     --kms-key-id K   its KMS key (needs --encrypted)
  --encrypt-algorithm A ECS: the copy's EncryptAlgorithm (e.g. AES256; needs --encrypted)
  --accounts A          account ids (repeatable or a comma list; AWS 12 digits)
  --community           ECS: publish as a community image
  --no-dry-run          skip the DryRun made before each CopyImage / share call
  --region R            the image's region (AWS_REGION / ALIBABA_CLOUD_REGION_ID when absent)
  --endpoint URL        API endpoint override (EC2, or ECS)
  --poll-seconds S      first wait between two polls of a copy (default 10, backing off to 60)
  --json                JSON lines: one per copy status, then the result
Credentials: each SDK's standard chain (AWS: env, profile, SSO, instance role; Alibaba: env, profile, RAM role).`;

const OPTIONS = {
  ...CLOUD_OPTIONS,
  'image-id': { type: 'string' }, 'to-region': { type: 'string', multiple: true }, name: { type: 'string' }, description: { type: 'string' },
  encrypted: { type: 'boolean' }, 'kms-key-id': { type: 'string' }, 'encrypt-algorithm': { type: 'string' }, accounts: { type: 'string', multiple: true }, community: { type: 'boolean' },
  'no-dry-run': { type: 'boolean' },
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

const COPY_ONLY = ['to-region', 'name', 'description', 'encrypted', 'kms-key-id', 'encrypt-algorithm'];
const SHARE_ONLY = ['accounts', 'community'];

function request(action: string, values: Values): DistributeRequest {
  const stray = (action === 'copy' ? SHARE_ONLY : COPY_ONLY).find((k) => values[k] !== undefined);
  if (stray) throw vmxError(CORE.USAGE, `--${stray} is not an option of image ${action}\n\n${IMAGE_USAGE}`);
  if (action === 'copy') {
    const regions = listFlag(values['to-region'] as string[] | undefined);
    if (!regions.length) throw vmxError(CORE.USAGE, `--to-region is required\n\n${IMAGE_USAGE}`);
    const s = (k: string) => values[k] as string | undefined;
    return { copies: regions.map((region) => ({ region, name: s('name'), description: s('description'), encrypted: values.encrypted as boolean | undefined, kmsKeyId: s('kms-key-id'), encryptAlgorithm: s('encrypt-algorithm') })) };
  }
  const accounts = listFlag(values.accounts as string[] | undefined);
  if (!accounts.length && values.community !== true) throw vmxError(CORE.USAGE, `--accounts or --community is required\n\n${IMAGE_USAGE}`);
  return { share: { accounts, community: values.community as boolean | undefined } };
}

export async function imageCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values: parsed, positionals } = parseCommand(argv, OPTIONS, IMAGE_USAGE);
  if (parsed.help) return printUsage(IMAGE_USAGE);
  const values = parsed as Values;
  const [action, cloud] = requirePositionals(positionals, ['copy|share', 'aws|ecs'], IMAGE_USAGE);
  if (action !== 'copy' && action !== 'share') throw vmxError(CORE.USAGE, `image takes copy or share, not "${action}"\n\n${IMAGE_USAGE}`);
  if (cloud !== 'aws' && cloud !== 'ecs') throw vmxError(CORE.USAGE, `image ${action} takes aws or ecs, not "${cloud}"\n\n${IMAGE_USAGE}`);
  const imageId = requireOption(values, 'image-id', IMAGE_USAGE);
  const req = request(action, values);
  const result = await run(cloud, imageId, req, values, signal);
  if (values.json) process.stdout.write(JSON.stringify({ type: 'result', imageId, ...result }) + '\n');
  else process.stdout.write(distributeSummary(result));
  throwIfShareFailed(result);
  return 0;
}

async function run(cloud: Cloud, imageId: string, req: DistributeRequest, values: Values, signal: AbortSignal) {
  const connections = cloud === 'aws' ? { aws: awsConnection(values, IMAGE_USAGE) } : { ecs: ecsConnection(values, IMAGE_USAGE) };
  const sourceRegion = cloud === 'aws' ? connections.aws!.region : connections.ecs!.region;
  return distributeWorkflow({ cloud, sourceImageId: imageId, sourceRegion, request: req, dryRun: values['no-dry-run'] !== true }, cliPorts(values, connections, IMAGE_USAGE, signal));
}
