import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../agent/config/load-config.js';
import { DEFAULTS } from '../../agent/config/schema.js';
import { REPO_ROOT } from '../helpers/tmp.js';

test('config/container.yaml is valid, listens on all interfaces and keeps state in the Dockerfile volume', async () => {
  const c = await loadConfig(join(REPO_ROOT, 'config', 'container.yaml'), { VMXFER_TOKEN: 'not-a-config-key-but-the-token' });
  assert.equal(c.listen.host, '0.0.0.0');
  assert.equal(c.listen.port, DEFAULTS.listen.port);
  assert.equal(c.state_dir, '/var/lib/vmxfer');
  assert.deepEqual(c.source_roots, [{ path: '/images', shared: false }]);
  const docker = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  assert.match(docker, /^VOLUME \["\/var\/lib\/vmxfer"\]$/m);
  assert.match(docker, new RegExp(`^EXPOSE ${c.listen.port}$`, 'm'));
  // The health check asks the address and TLS of the configuration the daemon runs with, not a fixed port.
  assert.match(docker, /^HEALTHCHECK .*\n {2}CMD \["vmxfer", "health", "--config", "\/opt\/vmxfer\/config\/container\.yaml"\]$/m);
  assert.match(docker, /^CMD \["daemon", "--config", "\/opt\/vmxfer\/config\/container\.yaml"\]$/m);
  // The image installs the npm package (npm pack: prepack builds dist/agent and dist/dashboard) under /opt/vmxfer,
  // on the Node line that package.json's engines names as tested.
  assert.match(docker, /^RUN npm pack --pack-destination \/pkg$/m);
  assert.match(docker, /tar -xzf \/pkg\/vmxfer-\*\.tgz -C \/opt\/vmxfer/);
  assert.match(docker, /^COPY --from=build \/opt\/vmxfer \/opt\/vmxfer$/m);
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8'));
  const lines = [...docker.matchAll(/^FROM node:(\d+)-/gm)].map((m) => m[1]!);
  assert.ok(lines.length >= 2);
  for (const major of lines) assert.match(pkg.engines.node, new RegExp(`\\^${major}\\.`), `engines names Node ${major}, the image's line`);
});
