import type { ProjectFiles } from "./find-projects.js";
import { CACHE_NOTE, jsonOf, present, type StarterHook } from "./starter-hook.js";
import { phpSeries, rubySeries } from "./tool-versions.js";

/** A Ruby project's hook: gems installed to the image's GEM_HOME, keyed on the gemspecs too. */
export function rubyHook(files: ProjectFiles): StarterHook {
  const gemfile = files.text("Gemfile");
  const series = rubySeries({
    rubyVersion: files.textHereOrRoot(".ruby-version"),
    toolVersions: files.textHereOrRoot(".tool-versions"),
    gemfile,
  });
  const gemspecs = files.paths.filter((p) => !p.includes("/") && p.endsWith(".gemspec"));
  const rspec = files.has(".rspec") || files.paths.some((p) => p.startsWith("spec/"));
  return {
    image: `ruby:${series}`,
    notes: [...CACHE_NOTE, "Gems are installed to the image's GEM_HOME, outside /kozmic."],
    install: ["bundle install --jobs 4"],
    tracked: [
      ...present(files.has, "Gemfile", "Gemfile.lock", ".ruby-version", ".tool-versions"),
      ...(gemspecs.length > 0 ? ["*.gemspec"] : []),
    ],
    build: rspec
      ? ["bundle exec rspec"]
      : files.has("Rakefile")
        ? ["bundle exec rake"]
        : ['echo "no Rakefile or spec/: put your test command here, e.g. bundle exec rspec"'],
  };
}

interface ComposerJson {
  require?: Record<string, unknown>;
  "require-dev"?: Record<string, unknown>;
  scripts?: Record<string, unknown>;
}

/** A Composer project's hook: composer's cache filled by the install, vendor/ made by the build. */
export function phpHook(files: ProjectFiles): StarterHook {
  const composer = jsonOf(files.text("composer.json")) as ComposerJson;
  const php = composer.require?.php;
  const series = phpSeries(typeof php === "string" ? php : undefined);
  const dev = Object.keys(composer["require-dev"] ?? {});
  const test =
    composer.scripts && "test" in composer.scripts
      ? "composer test"
      : dev.includes("pestphp/pest")
        ? "vendor/bin/pest"
        : dev.includes("phpunit/phpunit")
          ? "vendor/bin/phpunit"
          : 'echo "no test script or PHPUnit in composer.json: put your test command here"';
  const install = "composer install --no-interaction --no-progress --prefer-dist";
  return {
    image: `php:${series}-cli`,
    notes: [
      ...CACHE_NOTE,
      "The install adds git, unzip and Composer to the image and fills Composer's cache;",
      "the build makes vendor/ from that cache.",
    ],
    install: [
      "apt-get update && apt-get install -y --no-install-recommends git unzip",
      "curl -fsSL https://getcomposer.org/download/latest-stable/composer.phar -o /usr/local/bin/composer",
      "chmod +x /usr/local/bin/composer",
      "rm -rf /tmp/deps && mkdir /tmp/deps",
      `cp ${present(files.has, "composer.json", "composer.lock").join(" ")} /tmp/deps/`,
      `cd /tmp/deps && ${install} --no-scripts --no-autoloader`,
      "cd / && rm -rf /tmp/deps",
    ],
    tracked: present(files.has, "composer.json", "composer.lock"),
    build: [install, test],
  };
}

/** A root Makefile's hook: buildpack-deps has make, compilers and common libraries. */
export function makeHook(files: ProjectFiles, makefile: string): StarterHook {
  const target = /^test\s*:/m.test(files.text(makefile) ?? "") ? "make test" : "make";
  return {
    image: "buildpack-deps:bookworm",
    notes: [
      "buildpack-deps has make, compilers and common libraries. To cache what the build",
      "needs beyond them, add an install script (its result is cached as an image) and the",
      "files it depends on, as in the commented keys below.",
    ],
    tracked: [],
    build: [target],
    commented: [
      "install: |",
      "  apt-get update && apt-get install -y --no-install-recommends libfoo-dev",
      "tracked_files:",
      "  - Makefile",
    ],
  };
}

/** Nothing recognised: a hook that runs, with the keys to fill in commented out. */
export function genericHook(): StarterHook {
  return {
    image: "debian:bookworm",
    notes: [
      "Put your build and test commands in `build`. To cache the tools they need, add an",
      "install script (its result is cached as an image, rebuilt when the script or a",
      "tracked file changes) and the files it reads, as in the commented keys below.",
    ],
    tracked: [],
    build: ['echo "Kozmic ran this hook: put your build and test commands here"'],
    commented: [
      "install: |",
      "  apt-get update && apt-get install -y --no-install-recommends make",
      "tracked_files:",
      "  - Makefile",
    ],
  };
}
