/** A job's log page: `${publicUrl}/jobs/<id>`, the check run's "Details" link. */
export function jobUrl(publicUrl: string, jobId: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/jobs/${encodeURIComponent(jobId)}`;
}
