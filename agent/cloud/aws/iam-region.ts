/**
 * The region IAM requests are signed for. IAM is one global service per partition (AWS General
 * Reference, "AWS Identity and Access Management endpoints and quotas"): iam.amazonaws.com signs in
 * us-east-1, iam.cn-north-1.amazonaws.com.cn in cn-north-1 (aws-cn), iam.us-gov.amazonaws.com in
 * us-gov-west-1 (aws-us-gov); the ISO partitions sign in their east regions.
 */
const PARTITION_IAM_REGIONS: Array<[RegExp, string]> = [
  [/^cn-/, 'cn-north-1'],
  [/^us-gov-/, 'us-gov-west-1'],
  [/^us-isob-/, 'us-isob-east-1'],
  [/^us-iso-/, 'us-iso-east-1'],
];

export function iamSigningRegion(region: string): string {
  return PARTITION_IAM_REGIONS.find(([re]) => re.test(region))?.[1] ?? 'us-east-1';
}
