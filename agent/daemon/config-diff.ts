/** Keys (dotted paths) whose values differ between two configurations, for the SIGHUP log line. */
export function changedKeys(a: unknown, b: unknown, prefix = ''): string[] {
  if (isMap(a) && isMap(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => changedKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

/** Keys a reload cannot apply to a running listener or store. */
export const RESTART_KEYS = ['listen.host', 'listen.port', 'listen.tls_cert', 'listen.tls_key', 'state_dir', 'job_store.url', 'job_store.prefix', 'job_store.lease_seconds', 'agent.name'];

function isMap(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
