/**
 * The cloud task a previous run recorded, or a new one: `dryRun` (when given) then `start`, and the new
 * id handed to `record` before anything follows it, so a restart finds it and never starts a second.
 */
export async function startedTask(
  resumeId: string | undefined,
  start: () => Promise<string>,
  record: ((id: string) => Promise<void> | void) | undefined,
  dryRun?: (() => Promise<void>) | undefined,
): Promise<string> {
  if (resumeId) return resumeId;
  await dryRun?.();
  const id = await start();
  await record?.(id);
  return id;
}
