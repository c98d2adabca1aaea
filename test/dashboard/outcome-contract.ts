import type { CloudOutcomeSoFar, DataDisk, Finding, ImportOutcome, Job, Progress } from '../../agent/dashboard/client/api-types.js';
import type { ExportedObject } from '../../agent/cloud/tasks/export-task.js';
import type { ImportedResult, JobCloudOutcome, JobProgress, JobResult, JobView } from '../../agent/jobs/job-types.js';

/**
 * Compiles only while the page's types of a job's cloud outcome (agent/dashboard/client/api-types.ts)
 * accept what the daemon sends (agent/jobs/job-types.ts): the rendering tests feed the page fixtures of
 * the page's own types, so this is what keeps those fixtures honest when the daemon's model grows.
 */
type Reads<To, From extends To> = From;

export type ImportOutcomeContract = Reads<ImportOutcome, ImportedResult>;
export type ExportContract = Reads<NonNullable<NonNullable<Job['result']>['export']>, ExportedObject>;
export type DataDiskContract = Reads<DataDisk, NonNullable<JobResult['dataDisks']>[number]>;
export type FindingContract = Reads<Finding, NonNullable<JobView['preflight']>[number]>;
export type ProgressContract = Reads<Progress, JobProgress>;
export type CloudOutcomeContract = Reads<CloudOutcomeSoFar, JobCloudOutcome>;
