import { withMethods, type Engine, type ImageInfo } from "./port.js";

/**
 * `engine`, with `ref` inspected at once: the first inspectImage(ref) gets that answer, every
 * other call goes to the engine as usual. For `kozmic run`, which knows the first hook's
 * image as soon as it has read the config and looks it up only after its log lines, the
 * records and the tracked files (5-10 ms later): Docker answers meanwhile. A failure is
 * told to the call that takes the answer, and to none when nothing does.
 */
export function withPrefetchedImage<E extends Engine>(engine: E, ref: string): E {
  let early: Promise<ImageInfo | undefined> | undefined = engine.inspectImage(ref);
  early.catch(() => {});
  return withMethods(engine, {
    inspectImage: (wanted) => {
      if (early && wanted === ref) {
        const answer = early;
        early = undefined;
        return answer;
      }
      return engine.inspectImage(wanted);
    },
  });
}
