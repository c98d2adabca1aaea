import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID, createHash } from 'node:crypto';
import { esc, xmlDocument } from './xml.js';

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** The export-readiness settings of one bucket (S3 API: GetBucketOwnershipControls, GetBucketAcl, GetBucketEncryption). */
export interface FakeBucket {
  ownership?: string | undefined;
  grants: Array<{ id: string; permission: string }>;
  sseAlgorithm?: string | undefined;
}

/** S3 REST error body (S3 API, "Error responses"). */
export function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${esc(message)}</Message><RequestId>${randomUUID()}</RequestId></Error>`);
}

function aclXml(bucket: FakeBucket): string {
  const grants = bucket.grants
    .map((g) => `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${g.id}</ID></Grantee><Permission>${g.permission}</Permission></Grant>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy xmlns="${S3_NS}"><Owner><ID>owner-canonical-id</ID></Owner><AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
}

function bucketSubresource(res: ServerResponse, name: string, bucket: FakeBucket, query: URLSearchParams): void {
  if (query.has('ownershipControls')) {
    if (!bucket.ownership) return s3Error(res, 404, 'OwnershipControlsNotFoundError', 'The bucket ownership controls were not found');
    res.writeHead(200, { 'content-type': 'application/xml' });
    return void res.end(xmlDocument('OwnershipControls', S3_NS, { Rule: { ObjectOwnership: bucket.ownership } }));
  }
  if (query.has('acl')) {
    res.writeHead(200, { 'content-type': 'application/xml' });
    return void res.end(aclXml(bucket));
  }
  if (query.has('encryption')) {
    if (!bucket.sseAlgorithm) return s3Error(res, 404, 'ServerSideEncryptionConfigurationNotFoundError', 'The server side encryption configuration was not found');
    res.writeHead(200, { 'content-type': 'application/xml' });
    return void res.end(xmlDocument('ServerSideEncryptionConfiguration', S3_NS, { Rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: bucket.sseAlgorithm } } }));
  }
  s3Error(res, 501, 'NotImplemented', `the fake serves no such bucket subresource on ${name}`);
}

function object(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined, key: string): void {
  if (!body) return s3Error(res, 404, 'NoSuchKey', `The specified key does not exist: ${key}`);
  const etag = `"${createHash('md5').update(body).digest('hex')}"`;
  const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'content-length': body.length, etag });
    return void res.end();
  }
  if (!range) {
    res.writeHead(200, { 'content-length': body.length, etag });
    return void res.end(body);
  }
  const start = Number(range[1]);
  const end = Math.min(body.length - 1, Number(range[2]));
  if (start >= body.length) return s3Error(res, 416, 'InvalidRange', 'The requested range is not satisfiable');
  res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${body.length}`, etag });
  res.end(body.subarray(start, end + 1));
}

/** Path-style S3 GET/HEAD: /bucket?ownershipControls|acl|encryption and /bucket/key (ranged). */
export function s3Route(req: IncomingMessage, res: ServerResponse, buckets: Map<string, FakeBucket>, objects: Map<string, Buffer>): void {
  const url = new URL(req.url ?? '/', 'http://fake');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  if (!key) {
    const b = buckets.get(bucket);
    if (!b) return s3Error(res, 404, 'NoSuchBucket', `The specified bucket does not exist: ${bucket}`);
    return bucketSubresource(res, bucket, b, url.searchParams);
  }
  object(req, res, objects.get(`${bucket}/${key}`), key);
}
