import type { ArtifactSettings } from "../settings/artifact-settings.js";
import type { ArtifactStore } from "./artifact-port.js";
import { EmbeddedArtifacts } from "./embedded-artifacts.js";

/** How often the embedded store looks for expired artifacts. */
const SWEEP_INTERVAL_MS = 60 * 60_000;

/**
 * The S3 bucket when KOZMIC_ARTIFACT_BUCKET is set (its lifecycle rule expires them), else
 * files under KOZMIC_DATA_DIR, swept hourly on an unref'd timer as the logs expire.
 */
export async function artifactStoreFrom({ store }: ArtifactSettings): Promise<ArtifactStore> {
  if (store.kind === "s3") return (await import("./s3-artifacts.js")).s3ArtifactsFrom(store);
  const embedded = new EmbeddedArtifacts(store.dataDir);
  const sweep = () =>
    embedded
      .sweep(store.retentionDays)
      .catch((error: Error) => console.error(`artifact retention: ${error.message}`));
  setInterval(sweep, SWEEP_INTERVAL_MS).unref();
  void sweep();
  return embedded;
}
