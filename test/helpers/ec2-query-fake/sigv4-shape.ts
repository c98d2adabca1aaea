/**
 * The shape of a Signature Version 4 Authorization header (AWS General Reference, "Signature Version 4
 * signing process", Authorization header): algorithm, Credential=AKID/date/region/service/aws4_request,
 * SignedHeaders (lowercase, ';'-separated, including host and x-amz-date), Signature (64 hex digits).
 * The fakes check this shape and the X-Amz-Date header; they do not recompute the signature.
 */
const SIGV4 = /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

export interface SigV4Facts {
  accessKeyId: string;
  region: string;
  service: string;
  signedHeaders: string[];
}

export function parseSigV4(authorization: string | undefined, amzDate: string | undefined): SigV4Facts | string {
  if (!authorization) return 'no Authorization header';
  const m = SIGV4.exec(authorization);
  if (!m) return `Authorization header is not a SigV4 header: ${authorization.slice(0, 60)}`;
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate)) return 'X-Amz-Date header missing or malformed';
  if (amzDate.slice(0, 8) !== m[2]) return 'credential scope date differs from X-Amz-Date';
  const signedHeaders = m[5]!.split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) return 'SignedHeaders lacks host or x-amz-date';
  return { accessKeyId: m[1]!, region: m[3]!, service: m[4]!, signedHeaders };
}
