import { ok, problem, skipped, type CheckResult } from "./check-result.js";

/** `${KOZMIC_PUBLIC_URL}/healthz` answers 200: the links on check runs lead somewhere. */
export async function checkPublicUrl(
  publicUrl: string | undefined,
  timeoutMs = 5000,
): Promise<CheckResult> {
  if (!publicUrl) {
    return skipped(
      "public URL",
      "KOZMIC_PUBLIC_URL is not set, so check runs link to http://localhost:<PORT>: set it to the " +
        "address where users reach kozmic serve",
    );
  }
  const url = `${publicUrl.replace(/\/+$/, "")}/healthz`;
  let status: number;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    status = response.status;
    await response.body?.cancel();
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    return problem(
      "public URL",
      `${url} does not answer (${why}): check that kozmic serve runs and that KOZMIC_PUBLIC_URL is ` +
        "the address users reach it at",
    );
  }
  if (status === 200) return ok("public URL", `${url} answers 200`);
  return problem(
    "public URL",
    `${url} answers HTTP ${status}, not 200: KOZMIC_PUBLIC_URL must lead to kozmic serve ` +
      "(a proxy in front of it must pass /healthz and /jobs/ through)",
  );
}
