/**
 * A hook's `image:` is an image *name*, never an ID or an ID prefix: Docker resolves a bare
 * `9b1ba2` to any local image whose ID starts so, which would let one repository's hook
 * start from another repository's cached install. Pure: no I/O.
 */

/** Where Kozmic commits installs; hooks may never name it. */
export const CACHE_REPOSITORY_PREFIX = "kozmic-cache/";

export interface ImageRef {
  /** The repository name as written, e.g. `python` or `ghcr.io/org/app`. */
  name: string;
  tag?: string;
  digest?: string;
}

const ID = /^(sha256:)?[0-9a-f]{64}$/i;

/** Splits `name[:tag][@digest]`; the tag is a `:` after the last `/`. */
export function parseImageRef(ref: string): ImageRef {
  const at = ref.indexOf("@");
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const rest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = rest.lastIndexOf(":");
  const tagged = colon > rest.lastIndexOf("/");
  return {
    name: tagged ? rest.slice(0, colon) : rest,
    ...(tagged ? { tag: rest.slice(colon + 1) } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** Docker Hub names as Docker shows them: `docker.io/library/busybox` is `busybox`. */
export function familiarName(name: string): string {
  const lower = name.toLowerCase();
  for (const hub of ["docker.io/", "index.docker.io/", "registry-1.docker.io/"]) {
    if (lower.startsWith(hub)) {
      const path = name.slice(hub.length);
      return path.startsWith("library/") && path.split("/").length === 2
        ? path.slice("library/".length)
        : path;
    }
  }
  return name;
}

/** Why `ref` may not be a hook's image, or undefined when it may. */
export function checkHookImage(ref: string): string | undefined {
  if (ID.test(ref) || /^sha256:/i.test(ref)) {
    return "expected an image name such as `python:3.12`, not an image ID";
  }
  const { name, digest } = parseImageRef(ref);
  if (name === "" || /[@]/.test(digest ?? "") || (digest !== undefined && !/^\w+:/.test(digest))) {
    return "expected a Docker image reference such as `python:3.12` or `name@sha256:…`";
  }
  if (familiarName(name).toLowerCase().startsWith(CACHE_REPOSITORY_PREFIX)) {
    return (
      `\`${CACHE_REPOSITORY_PREFIX}\` holds Kozmic's install cache, which only Kozmic writes: ` +
      "name the base image and put the set-up in `install:`"
    );
  }
  return namingProblem(name, parseImageRef(ref).tag);
}

// Docker's reference grammar (distribution/reference): lowercase path components joined
// by `.`, `_`, `__` or dashes; a tag of word characters, dots and dashes.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;

/** What Docker would refuse in a name and tag, said so the fix is plain; undefined if none. */
function namingProblem(name: string, tag: string | undefined): string | undefined {
  const parts = name.split("/");
  // The first part is a registry when it looks like a host: `ghcr.io`, `localhost:5000`.
  const hasRegistry = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!);
  const path = hasRegistry ? parts.slice(1) : parts;
  if (path.some((part) => part !== part.toLowerCase())) {
    const fixed = [...(hasRegistry ? [parts[0]] : []), ...path.map((p) => p.toLowerCase())];
    return (
      "Docker image names are lowercase (Docker refuses this one): " +
      `write \`${fixed.join("/")}${tag !== undefined ? `:${tag}` : ""}\``
    );
  }
  const bad = path.find((part) => !PATH_COMPONENT.test(part));
  if (bad !== undefined) {
    return (
      `\`${bad}\` is not a valid part of a Docker image name: lowercase letters and digits, ` +
      "joined by single dots, underscores or dashes"
    );
  }
  if (tag !== undefined && !TAG.test(tag)) {
    return `\`${tag}\` is not a valid Docker tag: letters, digits, \`_\`, \`.\` and \`-\`, at most 128`;
  }
  return undefined;
}

/**
 * The reference to look the image up by: always with a tag or a digest, so that Docker
 * never falls back to matching an image ID prefix.
 */
export function lookupRef(ref: string): string {
  const { name, tag, digest } = parseImageRef(ref);
  if (digest !== undefined) return `${name}${tag !== undefined ? `:${tag}` : ""}@${digest}`;
  return `${name}:${tag ?? "latest"}`;
}

/**
 * Whether an image Docker returned for `ref` is really known by that name (its tags or
 * digests), and not an image that only matched by ID.
 */
export function imageIsNamed(
  ref: string,
  image: { tags: readonly string[]; digests?: readonly string[] },
): boolean {
  const { name, tag, digest } = parseImageRef(ref);
  const known = digest !== undefined ? (image.digests ?? []) : image.tags;
  return known.some((other) => {
    const parsed = parseImageRef(other);
    if (familiarName(parsed.name) !== familiarName(name)) return false;
    return digest !== undefined ? parsed.digest === digest : parsed.tag === (tag ?? "latest");
  });
}
