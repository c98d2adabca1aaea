import { finding, type Finding } from './finding.js';

/** Letters of the Latin alphabet or CJK unified ideographs (the "Chinese character" of the ECS docs). */
const STARTS_LETTER = /^[A-Za-z\u4e00-\u9fff]/u;
/** Characters ECS allows in an image name: letters, CJK, digits, period, underscore, hyphen, colon. */
const NAME_CHARS = /^[A-Za-z0-9\u4e00-\u9fff._:-]+$/u;
const HTTP = /https?:\/\//i;

/**
 * ECS ImportImage/CopyImage ImageName (API reference, request parameters; error InvalidImageName.Malformed):
 * 2-128 characters, starts with a letter or a Chinese character, not with "aliyun" or "acs:", may contain
 * digits, ".", "_", "-" and ":", never "http://" or "https://".
 */
export function ecsImageNameRules(name: string | undefined, rule = 'ecs-image-name'): Finding[] {
  if (name === undefined) return [];
  const bad = (why: string) => [finding('error', rule, 'InvalidImageName.Malformed', `image name "${name}" ${why}`, 'Use 2-128 letters, Chinese characters, digits, ".", "_", "-" or ":", starting with a letter, not with "aliyun" or "acs:", and without http:// or https://.')];
  const len = [...name].length;
  if (len < 2 || len > 128) return bad(`has ${len} characters (2-128 allowed)`);
  if (!STARTS_LETTER.test(name)) return bad('does not start with a letter or a Chinese character');
  if (/^(aliyun|acs:)/i.test(name)) return bad('starts with a reserved prefix ("aliyun" or "acs:")');
  if (HTTP.test(name)) return bad('contains http:// or https://');
  if (!NAME_CHARS.test(name)) return bad('contains characters other than letters, digits, ".", "_", "-" and ":"');
  return [];
}

/** ECS Description (InvalidDescription.Malformed): 2-256 characters, not starting with http:// or https://. */
export function ecsDescriptionRules(description: string | undefined): Finding[] {
  if (description === undefined) return [];
  const len = [...description].length;
  const bad = (why: string) => [finding('error', 'ecs-description', 'InvalidDescription.Malformed', `description ${why}`, 'Use a description of 2-256 characters that does not start with http:// or https://.')];
  if (len < 2 || len > 256) return bad(`has ${len} characters (2-256 allowed)`);
  if (/^https?:\/\//i.test(description)) return bad('starts with http:// or https://');
  return [];
}

/** ECS ExportImage OSSPrefix (InvalidOSSPrefix.Malformed): 1-30 letters or digits. */
export function ossPrefixRules(prefix: string | undefined): Finding[] {
  if (prefix === undefined) return [];
  if (/^[A-Za-z0-9]{1,30}$/.test(prefix)) return [];
  return [finding('error', 'oss-prefix', 'InvalidOSSPrefix.Malformed', `OSS prefix "${prefix}" is not 1-30 letters or digits`, 'Choose an OSS prefix of 1 to 30 letters or digits (no "/", "-" or "_").')];
}
