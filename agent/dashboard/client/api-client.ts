import type { ApiError, Job, JobState } from './api-types.js';

/** An API answer that was not a success: the daemon's error object plus the HTTP status. */
export class ApiRequestError extends Error {
  constructor(readonly status: number, readonly error: ApiError) {
    super(`${error.message} [${error.code}]`);
  }
}

/** The daemon's HTTP API (docs/api.md), with the bearer token from the session. */
export class ApiClient {
  constructor(private readonly token: () => string) {}

  async submit(body: unknown): Promise<Job> {
    return (await this.request<{ job: Job }>('POST', '/v1/jobs', body)).job;
  }

  async job(id: string): Promise<Job> {
    return (await this.request<{ job: Job }>('GET', `/v1/jobs/${encodeURIComponent(id)}`)).job;
  }

  async jobs(states: JobState[] = []): Promise<Job[]> {
    const query = states.length ? `?state=${states.join(',')}` : '';
    return (await this.request<{ jobs: Job[] }>('GET', `/v1/jobs${query}`)).jobs;
  }

  async cancel(id: string): Promise<Job> {
    return (await this.request<{ job: Job }>('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`)).job;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
    const json = await response.json().catch(() => null);
    if (!response.ok) throw new ApiRequestError(response.status, apiErrorOf(json, response.status));
    return json as T;
  }
}

function apiErrorOf(json: unknown, status: number): ApiError {
  const error = (json as { error?: ApiError } | null)?.error;
  if (error && typeof error.message === 'string') return error;
  return { code: `HTTP_${status}`, category: 'remote', message: `the daemon answered HTTP ${status} without an error body` };
}
