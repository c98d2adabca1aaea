import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { EC2_ACTIONS, Ec2Error, EXAMPLE_AMI, VALIDATES_DRY_RUN, type Ec2World, type Params } from './ec2-actions.js';
import { COPY_SCRIPT, EXPORT_SCRIPT, IMPORT_IMAGE_SCRIPT, IMPORT_SNAPSHOT_SCRIPT } from './fake-state.js';
import { IAM_NS, iamGetRole } from './iam-actions.js';
import { s3Error, s3Route, type FakeBucket } from './s3-routes.js';
import { parseSigV4 } from './sigv4-shape.js';
import { esc, xmlDocument } from './xml.js';
import { EbsDirectFake } from '../ebs-fake/ebs-direct-fake.js';

export const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/** Actions whose handler checks the request before it answers a DryRun (ec2-actions.ts passDryRun). */

export interface RecordedCall {
  service: string;
  action: string;
  params: Params;
  region: string;
}

/** The trust policy VM Import/Export needs (User Guide, "Required service role"). */
export const VMIMPORT_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'vmie.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:Externalid': 'vmimport' } } }],
});

/**
 * A protocol-level fake of the EC2 Query API (form-encoded POST, Action=..., Version=2016-11-15, XML
 * answers in the 2016-11-15 namespace, `<Response><Errors>` error documents), plus the IAM GetRole
 * query action and the path-style S3 GETs the export checks and downloads need. Every request must
 * carry a SigV4 Authorization header of the documented shape.
 */
export class Ec2QueryFake {
  readonly calls: RecordedCall[] = [];
  readonly buckets = new Map<string, FakeBucket>();
  /**
   * IAM actions the fake's caller is not allowed ("ec2:ImportImage", "iam:GetRole"): EC2 answers
   * UnauthorizedOperation (DryRun or not), IAM AccessDenied (EC2 API "Error codes", IAM "Common errors").
   */
  readonly denied = new Set<string>();
  readonly world: Ec2World = {
    tasks: new Map(),
    scripts: { importImage: IMPORT_IMAGE_SCRIPT, importSnapshot: IMPORT_SNAPSHOT_SCRIPT, export: EXPORT_SCRIPT, copy: COPY_SCRIPT },
    roles: new Map([['vmimport', VMIMPORT_TRUST]]),
    objects: new Map(),
    exportBytes: Buffer.alloc(0),
    landing: [],
    tokens: new Map(),
    tokenRequests: new Map(),
    launchPermissions: new Map(),
    images: new Map([[EXAMPLE_AMI, { region: 'eu-west-1', encrypted: false }]]),
    snapshots: new Set(),
    describeSnapshot: (id) => this.ebs.describe(id),
    buckets: this.buckets,
  };
  /** The EBS direct APIs on the same endpoint (requests signed for "ebs"); the snapshots it completes exist for EC2. */
  readonly ebs = new EbsDirectFake((id) => this.world.snapshots.add(id));
  /** Action → how many of its next calls answer RequestLimitExceeded. */
  readonly throttle = new Map<string, number>();
  /** Action → an error its next call answers. */
  readonly failNext = new Map<string, Ec2Error>();
  /** Actions whose next real (not DryRun) call is carried out but never answered: a reply lost when the caller dies. */
  readonly holdReply = new Set<string>();
  private server!: Server;
  url = '';

  static async start(): Promise<Ec2QueryFake> {
    const fake = new Ec2QueryFake();
    // A client that aborts mid-request (a cancelled job, a daemon stopping) resets its socket; a real
    // endpoint shrugs that off, so the fake drops the exchange instead of failing the test process.
    fake.server = createServer((req, res) => void fake.handle(req, res).catch(() => res.destroy()));
    fake.server.listen(0, '127.0.0.1');
    await once(fake.server, 'listening');
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  callsOf(action: string): RecordedCall[] {
    return this.calls.filter((c) => c.action === action);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const auth = parseSigV4(req.headers.authorization, req.headers['x-amz-date'] as string | undefined);
    if (typeof auth === 'string') return this.ec2Error(res, new Ec2Error(401, 'AuthFailure', `AWS was not able to validate the provided access credentials: ${auth}`));
    if (auth.service === 'ebs') return this.ebs.handle(req, res, Buffer.concat(chunks));
    if (req.method === 'GET' || req.method === 'HEAD') {
      this.calls.push({ service: 's3', action: `${req.method} ${req.url}`, params: {}, region: auth.region });
      // A caller without s3:GetBucketAcl is refused the ACL read (S3 "Error responses": AccessDenied, 403).
      if (this.denied.has('s3:GetBucketAcl') && new URL(req.url ?? '/', 'http://fake').searchParams.has('acl')) return s3Error(res, 403, 'AccessDenied', 'Access Denied');
      return s3Route(req, res, this.buckets, this.world.objects);
    }
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const action = params.Action ?? '';
    this.calls.push({ service: auth.service, action, params, region: auth.region });
    if (auth.service === 'iam') return this.iam(res, action, params);
    return this.ec2(res, action, params, auth.region);
  }

  private iam(res: ServerResponse, action: string, params: Params): void {
    if (action !== 'GetRole' || params.Version !== '2010-05-08') return this.ec2Error(res, new Ec2Error(400, 'InvalidAction', `The fake IAM serves GetRole only, not ${action}`));
    if (this.denied.has(`iam:${action}`)) return this.iamDenied(res, action);
    const out = iamGetRole(this.world.roles, params.RoleName);
    res.writeHead(out.status, { 'content-type': 'text/xml' });
    res.end(out.body);
  }

  private async ec2(res: ServerResponse, action: string, params: Params, region: string): Promise<void> {
    const handler = EC2_ACTIONS[action];
    if (!handler) return this.ec2Error(res, new Ec2Error(400, 'InvalidAction', `The action ${action} is not valid for this web service.`));
    if (params.Version !== '2016-11-15') return this.ec2Error(res, new Ec2Error(400, 'InvalidParameterValue', `Version ${params.Version} is not 2016-11-15`));
    const throttled = this.throttle.get(action) ?? 0;
    if (throttled > 0) {
      this.throttle.set(action, throttled - 1);
      return this.ec2Error(res, new Ec2Error(503, 'RequestLimitExceeded', 'Request limit exceeded.'));
    }
    const injected = this.failNext.get(action);
    if (injected) {
      this.failNext.delete(action);
      return this.ec2Error(res, injected);
    }
    if (this.denied.has(`ec2:${action}`)) return this.ec2Error(res, new Ec2Error(403, 'UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    // The actions in VALIDATES_DRY_RUN check the request first and answer DryRunOperation themselves (passDryRun).
    if (params.DryRun === 'true' && !VALIDATES_DRY_RUN.has(action)) return this.ec2Error(res, new Ec2Error(412, 'DryRunOperation', 'Request would have succeeded, but DryRun flag is set.'));
    try {
      const body = handler(this.world, params, region);
      if (this.holdReply.delete(action)) return;
      await Promise.all(this.world.landing.splice(0));
      const requestId = randomUUID();
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
      res.end(xmlDocument(`${action}Response`, EC2_NS, { requestId, ...body }));
    } catch (err) {
      if (err instanceof Ec2Error) return this.ec2Error(res, err);
      throw err;
    }
  }

  /** IAM error document (IAM API "Common errors": AccessDenied, 403) for a caller without the permission. */
  private iamDenied(res: ServerResponse, action: string): void {
    res.writeHead(403, { 'content-type': 'text/xml' });
    res.end(xmlDocument('ErrorResponse', IAM_NS, { Error: { Type: 'Sender', Code: 'AccessDenied', Message: `User: arn:aws:iam::123456789012:user/fake is not authorized to perform: iam:${action}` }, RequestId: randomUUID() }));
  }

  /** EC2 error document (EC2 API reference, "Error codes": Response/Errors/Error/Code, Message; RequestID). */
  private ec2Error(res: ServerResponse, err: Ec2Error): void {
    const requestId = randomUUID();
    res.writeHead(err.status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${err.code}</Code><Message>${esc(err.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`);
  }
}
