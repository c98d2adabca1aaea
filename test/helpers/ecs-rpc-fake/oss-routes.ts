import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import type { EcsWorld } from './ecs-world.js';
import { checkSecurityToken } from './rpc-signature.js';

/** OSS REST error body (OSS API, "Error responses"). */
function ossError(res: ServerResponse, status: number, code: string, message: string, extra = ''): void {
  res.writeHead(status, { 'content-type': 'application/xml', 'x-oss-request-id': randomUUID() });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${randomUUID()}</RequestId>${extra}</Error>`);
}

function xml(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/xml', 'x-oss-request-id': randomUUID() });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

/** GetBucketInfo: BucketInfo/Bucket with Location, StorageClass and ServerSideEncryptionRule/SSEAlgorithm. */
function bucketInfo(res: ServerResponse, w: EcsWorld, name: string): void {
  const b = w.buckets.get(name);
  if (!b) return ossError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist.', `<BucketName>${name}</BucketName>`);
  const sse = b.sse ? `<ServerSideEncryptionRule><SSEAlgorithm>${b.sse}</SSEAlgorithm></ServerSideEncryptionRule>` : '';
  xml(res, `<BucketInfo><Bucket><Name>${name}</Name><Location>${b.location ?? 'oss-cn-hangzhou'}</Location><StorageClass>${b.storageClass}</StorageClass>${sse}</Bucket></BucketInfo>`);
}

/** HeadObject / GetObject with an optional Range header. */
function object(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined, key: string): void {
  if (!body) {
    if (req.method === 'HEAD') {
      res.writeHead(404, { 'x-oss-request-id': randomUUID() });
      return void res.end();
    }
    return ossError(res, 404, 'NoSuchKey', `The specified key does not exist: ${key}`);
  }
  const etag = `"${createHash('md5').update(body).digest('hex').toUpperCase()}"`;
  const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  const end = range ? Math.min(body.length - 1, Number(range[2])) : body.length - 1;
  const headers: Record<string, string | number> = { 'content-length': end - start + 1, etag, 'x-oss-request-id': randomUUID() };
  if (range) headers['content-range'] = `bytes ${start}-${end}/${body.length}`;
  res.writeHead(range ? 206 : 200, headers);
  res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
}

/**
 * Path-style OSS (ali-oss with sldEnable): GET /bucket/?bucketInfo and HEAD/GET /bucket/key. Requests
 * must carry an OSS-signed Authorization header ("OSS AccessKeyId:Signature" or OSS4-HMAC-SHA256).
 */
export function ossRoute(req: IncomingMessage, res: ServerResponse, url: URL, w: EcsWorld, auth: { keys: Map<string, string>; tokens: Map<string, string> }): void {
  if (!/^OSS4?(-HMAC-SHA256)? \S/.test(req.headers.authorization ?? '')) return ossError(res, 403, 'AccessDenied', 'Authorization header missing or not OSS-signed.');
  // The AccessKeyId of "OSS AccessKeyId:Signature" (V1) or "OSS4-HMAC-SHA256 Credential=AccessKeyId/..." (V4).
  const id = /^OSS (\S+):/.exec(req.headers.authorization!)?.[1] ?? /Credential=([^/]+)\//.exec(req.headers.authorization!)?.[1] ?? '';
  if (!auth.keys.has(id)) return ossError(res, 403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.');
  // STS keys carry x-oss-security-token (OSS "Use temporary credentials provided by STS"); a wrong one is InvalidSecurityToken.
  if (checkSecurityToken(id, req.headers['x-oss-security-token'] as string | undefined, auth.tokens)) return ossError(res, 403, 'InvalidSecurityToken', 'The security token you provided is invalid.');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  if (url.searchParams.has('bucketInfo')) return bucketInfo(res, w, bucket);
  object(req, res, w.objects.get(`${bucket}/${key}`), key);
}
