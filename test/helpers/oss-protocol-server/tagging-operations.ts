import { FakeErrors } from './fake-oss-error.js';
import type { FakeRequest, FakeResponse } from './fake-request.js';
import { MAX_TAGGING_BODY, parseTaggingDocument, xmlDocument } from './fake-xml.js';

/**
 * PutObjectTagging and GetObjectTagging of the OSS protocol fake (OSS API reference, "Object
 * tagging"): `PUT /key?tagging` replaces the object's whole tag set with the body's
 * `<Tagging><TagSet><Tag><Key/><Value/></Tag></TagSet></Tagging>`; `GET /key?tagging` returns it.
 * Limits from "Object tagging": at most 10 tags, keys 1-128 and values 0-256 characters, keys
 * unique; NoSuchKey for a missing object.
 */

const MAX_TAGS = 10;

export function putObjectTagging(req: FakeRequest): FakeResponse {
  const obj = req.store.bucket(req.bucket!).objects.get(req.key!);
  if (!obj) throw FakeErrors.noSuchKey(req.key!);
  if (req.body.length > MAX_TAGGING_BODY) throw FakeErrors.malformedXml(`The tagging document of ${req.body.length} bytes is too large.`);
  const parsed = parseTaggingDocument(req.body.toString('utf8'));
  if (!parsed) throw FakeErrors.malformedXml('The XML you provided was not well-formed or did not validate against our published schema.');
  if (parsed.length > MAX_TAGS) throw FakeErrors.invalidTag(`An object can have at most ${MAX_TAGS} tags; ${parsed.length} were given.`);
  const tags: Record<string, string> = {};
  for (const { key, value } of parsed) {
    if (key.length === 0 || key.length > 128 || value.length > 256) throw FakeErrors.invalidTag(`Tag "${key.slice(0, 40)}": keys are 1-128 and values 0-256 characters.`);
    if (key in tags) throw FakeErrors.invalidTag(`Tag key "${key}" is given twice.`);
    tags[key] = value;
  }
  obj.tags = tags;
  return { status: 200, headers: {} };
}

export function getObjectTagging(req: FakeRequest): FakeResponse {
  const obj = req.store.bucket(req.bucket!).objects.get(req.key!);
  if (!obj) throw FakeErrors.noSuchKey(req.key!);
  const Tag = Object.entries(obj.tags).map(([Key, Value]) => ({ Key, Value }));
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body: xmlDocument('Tagging', { TagSet: { Tag } }) };
}
