import { xmlDocument } from './fake-xml.js';

/**
 * An OSS error response as the OSS API reference documents it ("Error responses"): an HTTP status
 * and an XML body `<Error><Code/><Message/><RequestId/><HostId/>...</Error>`. `extra` carries the
 * operation-specific elements OSS adds (e.g. StringToSign on SignatureDoesNotMatch, PartNumber).
 */
export class FakeOssError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }

  toXml(requestId: string, hostId: string): string {
    return xmlDocument('Error', {
      Code: this.code,
      Message: this.message,
      RequestId: requestId,
      HostId: hostId,
      ...this.extra,
    });
  }
}

/** The documented errors the OSS protocol fake returns, with OSS's status codes. */
export const FakeErrors = {
  noSuchBucket: (bucket: string) => new FakeOssError(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: bucket }),
  noSuchKey: (key: string) => new FakeOssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key }),
  noSuchUpload: (uploadId: string) =>
    new FakeOssError(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId }),
  accessDenied: (why: string) => new FakeOssError(403, 'AccessDenied', why),
  invalidAccessKeyId: (id: string) => new FakeOssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', { OSSAccessKeyId: id }),
  signatureDoesNotMatch: (stringToSign: string) =>
    new FakeOssError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
      StringToSign: stringToSign,
    }),
  requestTimeTooSkewed: (date: string) => new FakeOssError(403, 'RequestTimeTooSkewed', `The difference between the request time (${date}) and the current time is too large.`),
  invalidDigest: (why: string) => new FakeOssError(400, 'InvalidDigest', why),
  invalidPart: (partNumber: number, why: string) => new FakeOssError(400, 'InvalidPart', why, { PartNumber: String(partNumber) }),
  invalidPartOrder: () => new FakeOssError(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts list must be specified in order by part number.'),
  entityTooSmall: (partNumber: number, size: number) =>
    new FakeOssError(400, 'EntityTooSmall', `Your proposed upload is smaller than the minimum allowed size (part ${partNumber} has ${size} bytes; all parts but the last must be at least 102400 bytes).`, {
      PartNumber: String(partNumber),
    }),
  entityTooLarge: (why: string) => new FakeOssError(400, 'EntityTooLarge', why),
  invalidArgument: (name: string, value: string, why: string) => new FakeOssError(400, 'InvalidArgument', why, { ArgumentName: name, ArgumentValue: value }),
  invalidTag: (why: string) => new FakeOssError(400, 'InvalidTag', why),
  malformedXml: (why: string) => new FakeOssError(400, 'MalformedXML', why),
  preconditionFailed: (condition: string) => new FakeOssError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.', { Condition: condition }),
  invalidRange: () => new FakeOssError(416, 'InvalidRange', 'The requested range cannot be satisfied.'),
  bucketAlreadyExists: (bucket: string) => new FakeOssError(409, 'BucketAlreadyExists', 'The requested bucket name is not available.', { BucketName: bucket }),
  bucketNotEmpty: (bucket: string) => new FakeOssError(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty.', { BucketName: bucket }),
  notImplemented: (what: string) => new FakeOssError(501, 'NotImplemented', `The OSS protocol fake does not implement ${what}.`),
  storageFull: (limit: number) => new FakeOssError(507, 'FakeStorageFull', `The OSS protocol fake's in-memory store is limited to ${limit} bytes.`),
};
