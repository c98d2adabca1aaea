/** The names of the journal's steps, shared by the workflows and the migration of old job records. */
export const STEP = {
  upload: 'upload',
  ebsSnapshot: 'ebs.snapshot',
  importStarted: 'import.started',
  imported: 'import',
  copiesStarted: 'copies.started',
  copied: 'copies',
  shared: 'shares',
  exportStarted: 'export.started',
  exported: 'export',
  disksDownloaded: 'disks.downloaded',
} as const;
