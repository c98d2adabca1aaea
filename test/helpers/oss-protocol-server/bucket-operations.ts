import type { FakeRequest, FakeResponse } from './fake-request.js';
import { xmlDocument } from './fake-xml.js';
import { boundedInt } from './multipart-operations.js';

/** PutBucket and DeleteBucket, which tests use to set the OSS protocol fake up; ListObjects (v1 and v2). */

const MAX_KEYS = 1000;
const OWNER_ID = '1000000000000000';

export function putBucket(req: FakeRequest): FakeResponse {
  req.store.createBucket(req.bucket!);
  return { status: 200, headers: { Location: `/${req.bucket}` } };
}

export function deleteBucket(req: FakeRequest): FakeResponse {
  req.store.deleteBucket(req.bucket!);
  return { status: 204, headers: {} };
}

/**
 * GetBucket (ListObjects) and ListObjectsV2 (OSS API reference): a ListBucketResult of Contents
 * (Key, LastModified, ETag, Type, Size, StorageClass, Owner) in key order, at most max-keys (default 100,
 * up to 1000) of them; v1 pages with marker / NextMarker, v2 with continuation-token /
 * NextContinuationToken (here the last key returned, base64). Delimiter is not implemented.
 */
export function listObjects(req: FakeRequest): FakeResponse {
  const v2 = req.query.get('list-type') === '2';
  const bucket = req.store.bucket(req.bucket!);
  const prefix = req.query.get('prefix') ?? '';
  const max = boundedInt(req, 'max-keys', 100, 1, MAX_KEYS);
  const token = req.query.get('continuation-token');
  const after = v2 ? (token ? Buffer.from(token, 'base64').toString('utf8') : (req.query.get('start-after') ?? '')) : (req.query.get('marker') ?? '');
  const all = [...bucket.objects.entries()].filter(([k]) => k.startsWith(prefix) && k > after).sort(([a], [b]) => (a < b ? -1 : 1));
  const page = all.slice(0, max);
  const truncated = all.length > page.length;
  const last = page[page.length - 1]?.[0] ?? '';
  const contents = page.map(([k, o]) => ({
    Key: k,
    LastModified: o.lastModified.toISOString(),
    ETag: o.etag,
    Type: o.objectType,
    Size: o.body.length,
    StorageClass: 'Standard',
    Owner: { ID: OWNER_ID, DisplayName: OWNER_ID },
  }));
  const paging = v2
    ? { ContinuationToken: token ?? undefined, NextContinuationToken: truncated ? Buffer.from(last).toString('base64') : undefined, KeyCount: page.length }
    : { Marker: after, NextMarker: truncated ? last : undefined };
  const body = xmlDocument('ListBucketResult', { Name: bucket.name, Prefix: prefix, ...paging, MaxKeys: max, Delimiter: '', IsTruncated: truncated, Contents: contents });
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
}
