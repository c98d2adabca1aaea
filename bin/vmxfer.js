#!/usr/bin/env node
// vmxfer supports Node 20 LTS and later; the AWS SDK's notice about its own future Node floor is not
// actionable for operators here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
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
