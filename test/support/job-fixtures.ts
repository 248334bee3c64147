import { randomUUID } from "node:crypto";
import type { JobMessage } from "../../src/core/job-message.js";
import type { BuildRecord, JobRecord } from "../../src/store/port.js";

export function aJobMessage(overrides: Partial<JobMessage> = {}): JobMessage {
  return {
    version: 1,
    jobId: `job-${randomUUID()}`,
    buildId: `build-${randomUUID()}`,
    installationId: 42,
    repository: {
      id: 7,
      fullName: "octo/widgets",
      cloneUrl: "https://github.com/octo/widgets.git",
      private: false,
    },
    sha: "a".repeat(40),
    ref: "refs/heads/main",
    event: "push",
    trust: "trusted",
    hook: { name: "test", image: "node:20", build: "npm test" },
    ...overrides,
  };
}

export function aBuild(overrides: Partial<BuildRecord> = {}): BuildRecord {
  return {
    id: `build-${randomUUID()}`,
    installationId: 42,
    repoId: 7,
    repoFullName: "octo/widgets",
    repoPrivate: false,
    sha: "b".repeat(40),
    ref: "refs/heads/main",
    event: "push",
    trigger: "octocat",
    trust: "trusted",
    createdAt: Date.now(),
    ...overrides,
  };
}

export function aJob(build: BuildRecord, overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id: `job-${randomUUID()}`,
    buildId: build.id,
    repoId: build.repoId,
    repoFullName: build.repoFullName,
    sha: build.sha,
    hook: "test",
    status: "queued",
    createdAt: build.createdAt,
    updatedAt: build.createdAt,
    ...overrides,
  };
}
