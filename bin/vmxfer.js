#!/usr/bin/env node
// vmxfer supports Node 20 LTS and later; the AWS SDK's notice about its own future Node floor is not
// actionable for operators here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Node >= 22.1 keeps V8's compiled code on disk between runs (in $NODE_COMPILE_CACHE, else the OS temp
// directory; NODE_DISABLE_COMPILE_CACHE=1 turns it off): every command starts by compiling about 1 MB of
// its own and the SDKs' JavaScript, ~0.08 CPU-s of a small upload on Node 26 (bench/README.md). Node 20
// has no such cache.
(await import('node:module')).enableCompileCache?.();
const { main } = await import('../dist/agent/cli/main.js');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`vmxfer: internal error: ${err?.stack ?? err}\n`);
    process.exitCode = 70;
  },
);
