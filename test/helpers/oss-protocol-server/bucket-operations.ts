import type { FakeRequest, FakeResponse } from './fake-request.js';

/** PutBucket and DeleteBucket, which tests use to set the OSS protocol fake up. */

export function putBucket(req: FakeRequest): FakeResponse {
  req.store.createBucket(req.bucket!);
  return { status: 200, headers: { Location: `/${req.bucket}` } };
}

export function deleteBucket(req: FakeRequest): FakeResponse {
  req.store.deleteBucket(req.bucket!);
  return { status: 204, headers: {} };
}
