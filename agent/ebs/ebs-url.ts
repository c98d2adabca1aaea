import { vmxError } from '../core/errors.js';
import { EBS } from './error-codes.js';

/** Where `ebs://REGION[/PARENT-SNAPSHOT-ID]` writes: a new snapshot in REGION, incremental to the parent when named. */
export interface EbsTarget {
  region: string;
  parentSnapshotId?: string | undefined;
}

// Region names such as us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-4.
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
// EC2 resource ids: "snap-" then 8 (older) or 17 hexadecimal characters.
const SNAPSHOT_ID = /^snap-([0-9a-f]{8}|[0-9a-f]{17})$/;

export function isEbsUrl(url: string): boolean {
  return /^ebs:\/\//i.test(url);
}

export function parseEbsUrl(url: string): EbsTarget {
  if (!isEbsUrl(url)) throw badUrl(url, 'it does not start with ebs://');
  const [region = '', parent, ...rest] = url.slice('ebs://'.length).split('/');
  if (!REGION.test(region)) throw badUrl(url, `"${region}" is not an AWS region name (e.g. eu-west-1)`);
  if (rest.length > 0 || parent === '') throw badUrl(url, 'write ebs://REGION or ebs://REGION/snap-PARENT');
  if (parent !== undefined && !SNAPSHOT_ID.test(parent)) throw badUrl(url, `"${parent}" is not a snapshot id (snap- and 8 or 17 hex digits)`);
  return { region, parentSnapshotId: parent };
}

function badUrl(url: string, rule: string) {
  return vmxError(EBS.BAD_URL, `EBS destination "${url}": ${rule}`);
}
