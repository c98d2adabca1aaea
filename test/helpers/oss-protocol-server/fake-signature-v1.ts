import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { FakeErrors } from './fake-oss-error.js';

/**
 * OSS V1 header signature, as the OSS API reference "Include a V1 signature in the Authorization
 * header" defines it:
 *   Authorization = "OSS " + AccessKeyId + ":" + Signature
 *   Signature = base64(hmac-sha1(AccessKeySecret, VERB + "\n" + Content-MD5 + "\n" + Content-Type
 *               + "\n" + Date + "\n" + CanonicalizedOSSHeaders + CanonicalizedResource))
 * CanonicalizedOSSHeaders: every x-oss-* header, name lower-cased, value trimmed, sorted by name,
 * each as "name:value\n". CanonicalizedResource: "/bucket/key" ("/bucket/" for bucket operations,
 * "/" for service ones) plus the signed sub-resources of the query string, sorted, joined by "&",
 * "name=value" or "name" when the value is empty.
 * The Date slot is the Date header; OSS also accepts an x-oss-date header instead (error
 * 0002-00000503 "valid x-oss-date header or Date header"), which is what ali-oss sends.
 */

/** Query parameters that are sub-resources and therefore part of CanonicalizedResource. */
const SIGNED_SUBRESOURCES = new Set([
  'acl', 'uploads', 'location', 'cors', 'logging', 'website', 'referer', 'lifecycle', 'delete', 'append', 'tagging',
  'objectMeta', 'uploadId', 'partNumber', 'security-token', 'position', 'img', 'style', 'styleName', 'replication',
  'replicationProgress', 'replicationLocation', 'cname', 'bucketInfo', 'comp', 'qos', 'live', 'status', 'vod',
  'startTime', 'endTime', 'symlink', 'x-oss-process', 'response-content-type', 'response-content-language',
  'response-expires', 'response-cache-control', 'response-content-disposition', 'response-content-encoding',
  'udf', 'udfName', 'udfImage', 'udfId', 'udfImageDesc', 'udfApplication', 'udfApplicationLog', 'restore',
  'callback', 'callback-var', 'versionId', 'versioning', 'versions', 'encryption', 'policy', 'requestPayment',
  'worm', 'wormId', 'wormExtend', 'inventory', 'inventoryId', 'continuation-token', 'stat', 'sequential',
]);

/** Requests more than 15 minutes away from the server's clock are refused (RequestTimeTooSkewed). */
const MAX_SKEW_MS = 15 * 60 * 1000;

export interface SignedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  /** "/bucket/key" with the key URL-decoded, "/bucket/" or "/". */
  resource: string;
  query: URLSearchParams;
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
}

export function canonicalizedOssHeaders(headers: IncomingHttpHeaders): string {
  return Object.keys(headers)
    .filter((k) => k.toLowerCase().startsWith('x-oss-'))
    .map((k) => k.toLowerCase())
    .sort()
    .map((k) => `${k}:${header(headers, k).trim()}\n`)
    .join('');
}

export function canonicalizedResource(resource: string, query: URLSearchParams): string {
  const names = [...new Set([...query.keys()].filter((k) => SIGNED_SUBRESOURCES.has(k)))].sort();
  if (names.length === 0) return resource;
  return `${resource}?${names.map((k) => (query.get(k) ? `${k}=${query.get(k)}` : k)).join('&')}`;
}

export function stringToSignV1(req: SignedRequest): string {
  const date = header(req.headers, 'date') || header(req.headers, 'x-oss-date');
  return [
    req.method.toUpperCase(),
    header(req.headers, 'content-md5'),
    header(req.headers, 'content-type'),
    date,
    canonicalizedOssHeaders(req.headers) + canonicalizedResource(req.resource, req.query),
  ].join('\n');
}

export function signV1(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
}

/**
 * Verifies a request's V1 signature against the fake's credentials; throws the FakeOssError OSS
 * would answer with. Returns the access key id that signed the request.
 */
export function verifySignatureV1(req: SignedRequest, credentials: ReadonlyMap<string, string>, now = Date.now()): string {
  const auth = header(req.headers, 'authorization');
  if (!auth) throw FakeErrors.accessDenied('Anonymous access is forbidden for this operation (the OSS protocol fake has no public buckets).');
  if (auth.startsWith('OSS4-HMAC-SHA256')) {
    throw FakeErrors.accessDenied('The OSS protocol fake verifies V1 signatures only (ali-oss signs V1 unless authorizationV4 is set).');
  }
  const m = /^OSS ([^:\s]+):(\S+)$/.exec(auth);
  if (!m) throw FakeErrors.accessDenied(`Authorization header is not "OSS AccessKeyId:Signature": ${auth.slice(0, 60)}`);
  const [, keyId, signature] = m as unknown as [string, string, string];
  const secret = credentials.get(keyId);
  if (secret === undefined) throw FakeErrors.invalidAccessKeyId(keyId);
  const date = header(req.headers, 'date') || header(req.headers, 'x-oss-date');
  const when = Date.parse(date);
  if (!date || Number.isNaN(when)) throw FakeErrors.accessDenied('The request has no valid Date or x-oss-date header.');
  if (Math.abs(now - when) > MAX_SKEW_MS) throw FakeErrors.requestTimeTooSkewed(date);
  const stringToSign = stringToSignV1(req);
  const expected = Buffer.from(signV1(secret, stringToSign));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw FakeErrors.signatureDoesNotMatch(stringToSign);
  return keyId;
}
