import { remoteImportPreflight } from '../../cloud/upload-import/remote-import-preflight.js';
import { bootModesFor } from '../../cloud/upload-import/import-options.js';
import { parseCommand, requirePositionals } from '../args.js';
import { printUsage } from './inspect.js';
import { openDisk } from '../../formats/detect.js';
import { CORE } from '../../core/error-codes.js';
import { vmxError } from '../../core/errors.js';
import { CLOUD } from '../../cloud/error-codes.js';
import { formatFinding, hasErrors, IMPORT_TARGETS, type Finding, type ImportTarget } from '../../cloud/preflight/finding.js';
import { imageFactsFromInfo } from '../../cloud/preflight/facts-from-disk.js';
import { localImportPreflight, type ImportPreflightRequest } from '../../cloud/preflight/local-preflight.js';
import { guestPreflight } from '../../guest/guest-preflight.js';
import { awsConnection, CLOUD_OPTIONS, ecsConnection, oneOf, parseTags, requireOption } from '../cloud-connection.js';

export const PREFLIGHT_USAGE = `Usage: vmxfer preflight SRC --import aws-image|aws-snapshot|ecs-image [options]

Checks, before any upload, what the cloud import would refuse, and prints one line per finding:
ERROR (the cloud would refuse it; exit status 2), REPAIR (vmxfer converts it on the way), WARNING.
Each line carries the cloud's own error code and what to do.
  --import TARGET          aws-image (ImportImage), aws-snapshot (ImportSnapshot), ecs-image (ECS ImportImage)
  --original               upload SRC's bytes unchanged (no repair possible)
  --manifest               an import manifest accompanies disks over 8 TiB (AWS; ImportImage takes no manifest parameter)
  --name NAME              ECS image name          --description TEXT   image description
  --tag KEY=VALUE          a tag (repeatable)      --role-name NAME     import role (vmimport / AliyunECSImageImportDefaultRole)
  --license-type TYPE      AWS: AWS | BYOL; ECS: Auto | Aliyun | BYOL
  --usage-operation OP     AWS billing product code (never with --license-type)
  --encrypted              encrypt the imported snapshots    --kms-key-id KEY   the KMS key (needs --encrypted)
  --boot-mode M  --platform P  --architecture A   ImportImage's BootMode, Platform, Architecture (AWS rules)
  --check-role             also ask IAM / RAM whether the import role exists and trusts the import service
                           (a GetRole refused with AccessDenied / NoPermission is a WARNING: the role is unverified)
  --region R  --endpoint URL   where --check-role asks (defaults: AWS_REGION, ALIBABA_CLOUD_REGION_ID)
  --skip-guest-checks      skip the checks inside the guest (OS, kernel, boot mode, encryption, fstab; docs/guest.md);
                           the skip is reported as a WARNING
  --json                   findings as a JSON array`;

export async function preflightCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    ...CLOUD_OPTIONS,
    import: { type: 'string' }, original: { type: 'boolean' }, manifest: { type: 'boolean' },
    name: { type: 'string' }, description: { type: 'string' }, tag: { type: 'string', multiple: true }, 'role-name': { type: 'string' },
    'license-type': { type: 'string' }, 'usage-operation': { type: 'string' }, encrypted: { type: 'boolean' }, 'kms-key-id': { type: 'string' },
    'check-role': { type: 'boolean' }, 'skip-guest-checks': { type: 'boolean' }, 'boot-mode': { type: 'string' }, platform: { type: 'string' }, architecture: { type: 'string' },
  }, PREFLIGHT_USAGE);
  if (values.help) return printUsage(PREFLIGHT_USAGE);
  const [src] = requirePositionals(positionals, ['SRC'], PREFLIGHT_USAGE);
  const target = oneOf(requireOption(values, 'import', PREFLIGHT_USAGE), IMPORT_TARGETS, 'import', PREFLIGHT_USAGE);
  const req = await request(src!, target, values);
  const guest = await guestPreflight({
    path: src!, target, bootMode: values['boot-mode'] as string | undefined, platform: values.platform as string | undefined,
    architecture: values.architecture as string | undefined, guestChecks: values['skip-guest-checks'] === true ? false : undefined, signal,
  });
  const findings = [...localImportPreflight(req), ...guest.findings, ...(values['check-role'] ? await roleFindings(req, values, signal) : [])];
  print(findings, values.json === true);
  if (hasErrors(findings)) {
    throw vmxError(CLOUD.PREFLIGHT_FAILED, `${findings.filter((f) => f.severity === 'error').length} finding(s) would make the ${target} import fail; fix them before uploading`, { file: src });
  }
  return 0;
}

async function request(src: string, target: ImportTarget, values: Record<string, unknown>): Promise<ImportPreflightRequest> {
  const disk = await openDisk(src);
  const image = imageFactsFromInfo(src, disk.info);
  await disk.close();
  const tags = parseTags(values.tag as string[] | undefined, PREFLIGHT_USAGE);
  checkEnums(target, values);
  const common = { target, image, convertAllowed: values.original !== true, manifest: values.manifest === true };
  if (target === 'ecs-image') {
    // Flags only AWS reads would be ignored for ECS: refused, as upload --import does.
    const foreign = AWS_ONLY_FLAGS.find((k) => values[k] !== undefined);
    if (foreign) throw vmxError(CORE.USAGE, `--${foreign} does not apply to --import ecs-image\n\n${PREFLIGHT_USAGE}`);
    return { ...common, ecs: { imageName: values.name as string | undefined, description: values.description as string | undefined, tags, roleName: values['role-name'] as string | undefined } };
  }
  if (values.name !== undefined) throw vmxError(CORE.USAGE, `--name applies to ecs-image only\n\n${PREFLIGHT_USAGE}`);
  return {
    ...common,
    aws: {
      encrypted: values.encrypted as boolean | undefined,
      kmsKeyId: values['kms-key-id'] as string | undefined,
      licenseType: values['license-type'] as string | undefined,
      usageOperation: values['usage-operation'] as string | undefined,
      tags,
      roleName: values['role-name'] as string | undefined,
      bootMode: values['boot-mode'] as string | undefined,
      platform: values.platform as string | undefined,
      architecture: values.architecture as string | undefined,
    },
  };
}

const AWS_ONLY_FLAGS = ['usage-operation', 'encrypted', 'kms-key-id', 'manifest'];
const ECS_LICENSE_TYPES = ['Auto', 'Aliyun', 'BYOL'];

/** The values ImportImage documents for BootMode (AWS / ECS) and ECS LicenseType, checked before anything else. */
function checkEnums(target: ImportTarget, values: Record<string, unknown>): void {
  const bootMode = values['boot-mode'] as string | undefined;
  if (bootMode !== undefined) oneOf(bootMode, bootModesFor(target), 'boot-mode', PREFLIGHT_USAGE);
  const license = values['license-type'] as string | undefined;
  if (target === 'ecs-image' && license !== undefined) oneOf(license, ECS_LICENSE_TYPES, 'license-type', PREFLIGHT_USAGE);
}

/** The role check `upload --import` runs before its first byte, against the region and endpoint given here. */
function roleFindings(req: ImportPreflightRequest, values: Record<string, unknown>, signal: AbortSignal): Promise<Finding[]> {
  const v = values as Record<string, string | boolean | undefined>;
  const roleName = req.target === 'ecs-image' ? req.ecs?.roleName : req.aws?.roleName;
  const connections = req.target === 'ecs-image' ? { ecs: ecsConnection(v, PREFLIGHT_USAGE) } : { aws: awsConnection(v, PREFLIGHT_USAGE) };
  return remoteImportPreflight({ target: req.target, roleName }, connections, signal);
}

function print(findings: Finding[], json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(findings, null, 2) + '\n');
    return;
  }
  if (!findings.length) process.stdout.write('no findings: the cloud should accept this import\n');
  for (const f of findings) process.stdout.write(formatFinding(f) + '\n');
}
