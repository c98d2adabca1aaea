/**
 * The Region-specific canonical account IDs VM Import/Export writes exports as (VM Import/Export User
 * Guide, "Prerequisites for exporting", bucket ACL grantees). Regions not listed use the "all other
 * Regions" account.
 */
const BY_REGION: Readonly<Record<string, string>> = {
  'af-south-1': '3f7744aeebaf91dd60ab135eb1cf908700c8d2bc9133e61261e6c582be6e33ee',
  'ap-east-1': '97ee7ab57cc9b5034f31e107741a968e595c0d7a19ec23330eae8d045a46edfb',
  'ap-northeast-3': '40f22ffd22d6db3b71544ed6cd00c8952d8b0a63a87d58d5b074ec60397db8c9',
  'eu-south-1': '04636d9a349e458b0c1cbf1421858b9788b4ec28b066148d4907bb15c52b5b9c',
  'me-south-1': 'aa763f2cf70006650562c62a09433f04353db3cba6ba6aeb3550fdc8065d3d9f',
  'cn-north-1': '834bafd86b15b6ca71074df0fd1f93d234b9d5e848a2cb31f880c149003ce36f',
  'us-gov-west-1': 'af913ca13efe7a94b88392711f6cfc8aa07c9d1454d4f190a624b126733a5602',
};

export const OTHER_REGIONS_EXPORT_ACCOUNT = 'c4d8eabf8db69dbe46bfe0e517100c554f01200b104d59cd408e777ba442a322';

/**
 * Regions outside the commercial "all other Regions" account whose own account vmxfer does not list:
 * the other China and GovCloud Regions and the opt-in Regions launched with their own service accounts.
 */
const OWN_ACCOUNT_UNKNOWN = /^(cn-|us-gov-|us-iso)|^(ap-south-2|ap-southeast-[3-9]|ap-east-2|ca-west-1|eu-central-2|eu-south-2|il-central-1|me-central-1|mx-central-1)$/;

/** The Region's export account, or undefined where the user guide lists one vmxfer does not know. */
export function exportCanonicalAccount(region: string): string | undefined {
  if (BY_REGION[region]) return BY_REGION[region];
  return OWN_ACCOUNT_UNKNOWN.test(region) ? undefined : OTHER_REGIONS_EXPORT_ACCOUNT;
}
