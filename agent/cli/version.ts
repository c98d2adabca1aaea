import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/agent/cli/version.js sits three levels below the package root. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SDKS = ['@aws-sdk/client-s3', '@aws-sdk/client-ec2', 'ali-oss', '@alicloud/ecs20140526'];

/** `vmxfer --version`: the package, the commit it was built from, Node and the store/cloud SDKs it loads. */
export function versionText(): string {
  const sdks = SDKS.map((name) => `${name} ${packageVersion(name) ?? 'not installed'}`);
  return [`vmxfer ${ownVersion()} (commit ${commit()})`, `node ${process.versions.node}`, ...sdks].join('\n') + '\n';
}

/** What an agent reports of its build in the fleet's directory (GET /v1/agents `version`). */
export function agentVersion(): string {
  return `${ownVersion()} (commit ${commit()})`;
}

function ownVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The packed tarball carries no .git: its commit is what `prepack` recorded, if anything. */
function commit(): string {
  try {
    return readFileSync(join(ROOT, 'dist', 'COMMIT'), 'utf8').trim();
  } catch {
    try {
      return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim();
    } catch {
      return 'unknown';
    }
  }
}

/** A dependency's version from its package.json, found from its resolved entry point (exports may hide the file). */
function packageVersion(name: string): string | undefined {
  try {
    let dir = dirname(createRequire(join(ROOT, 'package.json')).resolve(name));
    for (let i = 0; i < 6; i++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version;
      } catch {
        // no package.json at this level: go up
      }
    }
  } catch {
    // not installed
  }
  return undefined;
}
