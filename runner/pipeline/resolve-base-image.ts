import type { Hook } from "../../src/core/config/schema.js";
import { InfrastructureError, PermanentError } from "../../src/core/errors.js";
import { imageIsNamed, lookupRef } from "../../src/core/image-ref.js";
import { hasCacheLabels } from "../cache/cache-images.js";
import type { Engine, ImageInfo } from "../engine/port.js";

/**
 * The hook's base image, looked up by name only (never as an ID prefix) and pulled when
 * absent or when the hook asks; an image carrying Kozmic's cache labels is refused.
 */
export async function resolveBaseImage(
  engine: Engine,
  hook: Pick<Hook, "image" | "pull">,
  say: (line: string) => void,
): Promise<ImageInfo> {
  const ref = lookupRef(hook.image);
  const named = async () => {
    const image = await engine.inspectImage(ref);
    return image && imageIsNamed(hook.image, image) ? image : undefined;
  };
  let base = hook.pull === "always" ? undefined : await named();
  if (!base) {
    say(`pulling ${hook.image}`);
    await engine.pullImage(hook.image);
    base = await named();
    if (!base) throw new InfrastructureError(`image ${hook.image} is not on the host after a pull`);
  }
  if (hasCacheLabels(base)) {
    throw new PermanentError(
      `image ${hook.image} (${base.id}) carries Kozmic's install-cache labels: only Kozmic's own ` +
        "cache images may, and a hook cannot start from one; name an ordinary base image",
    );
  }
  return base;
}
