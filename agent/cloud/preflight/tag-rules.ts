import { finding, type Finding } from './finding.js';

const HTTP = /https?:\/\//i;

/**
 * ECS tags (ImportImage Tag.N; errors InvalidTagCount, InvalidTagKey.Malformed, InvalidTagValue.Malformed):
 * at most 20; a key is 1-128 characters, does not start with "aliyun" or "acs:" and contains no
 * http:// or https://; a value is at most 128 characters and contains no http:// or https://.
 */
export function ecsTagRules(tags: Record<string, string> | undefined): Finding[] {
  if (!tags) return [];
  const out: Finding[] = [];
  const entries = Object.entries(tags);
  if (entries.length > 20) out.push(finding('error', 'ecs-tags', 'InvalidTagCount', `${entries.length} tags; ECS takes at most 20`, 'Keep at most 20 tags on the image.'));
  for (const [k, v] of entries) {
    const klen = [...k].length;
    if (klen < 1 || klen > 128 || /^(aliyun|acs:)/i.test(k) || HTTP.test(k)) {
      out.push(finding('error', 'ecs-tag-key', 'InvalidTagKey.Malformed', `tag key "${k}" breaks the ECS key rules`, 'Use keys of 1-128 characters that do not start with "aliyun" or "acs:" and contain no http:// or https://.'));
    }
    if ([...v].length > 128 || HTTP.test(v)) {
      out.push(finding('error', 'ecs-tag-value', 'InvalidTagValue.Malformed', `tag value of "${k}" breaks the ECS value rules`, 'Use values of at most 128 characters without http:// or https://.'));
    }
  }
  return out;
}

/**
 * AWS tags (EC2 User Guide, "Tag restrictions"; errors TagLimitExceeded, InvalidParameterValue):
 * at most 50 per resource; keys 1-128 Unicode characters, not starting with "aws:"; values at most 256.
 */
export function awsTagRules(tags: Record<string, string> | undefined): Finding[] {
  if (!tags) return [];
  const out: Finding[] = [];
  const entries = Object.entries(tags);
  if (entries.length > 50) out.push(finding('error', 'aws-tags', 'TagLimitExceeded', `${entries.length} tags; AWS takes at most 50 per resource`, 'Keep at most 50 tags.'));
  for (const [k, v] of entries) {
    const klen = [...k].length;
    if (klen < 1 || klen > 128 || /^aws:/i.test(k)) {
      out.push(finding('error', 'aws-tag-key', 'InvalidParameterValue', `tag key "${k}" breaks the AWS key rules`, 'Use keys of 1-128 characters that do not start with "aws:".'));
    }
    if ([...v].length > 256) out.push(finding('error', 'aws-tag-value', 'InvalidParameterValue', `tag value of "${k}" is longer than 256 characters`, 'Shorten the value to at most 256 characters.'));
  }
  return out;
}
