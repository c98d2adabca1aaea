import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { passDryRun, ECS_ACTIONS, RAM_ACTIONS, VALIDATES_DRY_RUN } from './ecs-actions.js';
import { EcsWorld, RpcError } from './ecs-world.js';
import { checkRpcSignature } from './rpc-signature.js';
import { ossRoute } from './oss-routes.js';

export interface RpcCall {
  action: string;
  version: string;
  params: Record<string, string>;
}

/** Trust policy of the ECS import/export roles (ECS "Import images": ecs.aliyuncs.com may assume them). */
export const ECS_ROLE_TRUST = JSON.stringify({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['ecs.aliyuncs.com'] } }], Version: '1' });

export const FAKE_ACCESS_KEY = { id: 'LTAIfakefakefake', secret: 'fakesecretfakesecret' };

/**
 * A protocol-level fake of the Alibaba Cloud RPC API for ECS (Version 2014-05-26) and RAM (2015-05-01):
 * Action and the common parameters in the query string, Signature V1 (HMAC-SHA1) verified against the
 * fake's key, SignatureNonce replay refused, JSON answers with RequestId, documented error JSON
 * {RequestId, HostId, Code, Message, Recommend}. Also path-style OSS: GetBucketInfo and ranged object reads.
 */
export class EcsRpcFake {
  readonly world = new EcsWorld();
  readonly calls: RpcCall[] = [];
  readonly throttle = new Map<string, number>();
  readonly failNext = new Map<string, RpcError>();
  private readonly nonces = new Set<string>();
  private readonly keys = new Map([[FAKE_ACCESS_KEY.id, FAKE_ACCESS_KEY.secret]]);
  /** AccessKeyId → SecurityToken of the temporary (STS) keys the fake knows. */
  private readonly tokens = new Map<string, string>();
  private server!: Server;
  host = '';

  static async start(): Promise<EcsRpcFake> {
    const fake = new EcsRpcFake();
    fake.world.roles.set('AliyunECSImageImportDefaultRole', ECS_ROLE_TRUST);
    fake.world.roles.set('AliyunECSImageExportDefaultRole', ECS_ROLE_TRUST);
    // A client that aborts mid-request (a cancelled job, a daemon stopping) resets its socket; a real
    // endpoint shrugs that off, so the fake drops the exchange instead of failing the test process.
    fake.server = createServer((req, res) => void fake.handle(req, res).catch(() => res.destroy()));
    fake.server.listen(0, '127.0.0.1');
    await once(fake.server, 'listening');
    fake.host = `127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Another AccessKey the fake accepts; with a SecurityToken it is an STS key that must carry it. */
  addKey(id: string, secret: string, securityToken?: string): void {
    this.keys.set(id, secret);
    if (securityToken !== undefined) this.tokens.set(id, securityToken);
  }

  callsOf(action: string): RpcCall[] {
    return this.calls.filter((c) => c.action === action);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname !== '/') return ossRoute(req, res, url, this.world, { keys: this.keys, tokens: this.tokens });
    const params = { ...Object.fromEntries(url.searchParams), ...Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) };
    try {
      const bad = checkRpcSignature(req.method ?? 'GET', params, this.keys, this.tokens);
      if (bad) throw new RpcError(bad.code === 'InvalidAccessKeyId.NotFound' ? 404 : bad.code.startsWith('InvalidSecurityToken') ? 403 : 400, bad.code, bad.message);
      if (this.nonces.has(params.SignatureNonce!)) throw new RpcError(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
      this.nonces.add(params.SignatureNonce!);
      this.calls.push({ action: params.Action!, version: params.Version!, params });
      this.reply(res, 200, { RequestId: randomUUID(), ...this.dispatch(params) });
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      this.reply(res, err.status, { RequestId: randomUUID(), HostId: req.headers.host, Code: err.code, Message: err.message, Recommend: `https://api.aliyun.com/troubleshoot?q=${err.code}` });
    }
  }

  private dispatch(params: Record<string, string>): Record<string, unknown> {
    const action = params.Action!;
    const table = params.Version === '2014-05-26' ? ECS_ACTIONS : params.Version === '2015-05-01' ? RAM_ACTIONS : {};
    const handler = table[action];
    if (!handler) throw new RpcError(404, 'InvalidAction.NotFound', `Specified api ${action} is not found, please check your url and method.`);
    const throttled = this.throttle.get(action) ?? 0;
    if (throttled > 0) {
      this.throttle.set(action, throttled - 1);
      throw new RpcError(400, 'Throttling.User', 'Request was denied due to user flow control.');
    }
    const injected = this.failNext.get(action);
    if (injected) {
      this.failNext.delete(action);
      throw injected;
    }
    // The actions in VALIDATES_DRY_RUN check the request first and answer DryRunOperation themselves (passDryRun).
    if (params.DryRun === 'true' && !VALIDATES_DRY_RUN.has(action)) passDryRun(params);
    return handler(this.world, params);
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
    res.end(JSON.stringify(body));
  }
}
