import type { ProjectFiles } from "./find-projects.js";
import { CACHE_NOTE, present, type StarterHook } from "./starter-hook.js";
import { javaRelease } from "./tool-versions.js";

const WARM_NOTE =
  "# Downloads plugins and dependencies into the image; the project's own errors show in the build.";

/** A Maven build's hook (the project's wrapper when it has one); ~/.m2 kept in the image. */
export function mavenHook(files: ProjectFiles): StarterHook {
  const pom = files.text("pom.xml");
  const java = javaRelease(pom, files.textHereOrRoot(".tool-versions"));
  const wrapper = files.has("mvnw");
  const mvn = wrapper ? "./mvnw" : "mvn";
  const modules = [...(pom ?? "").matchAll(/<module>\s*([^<\s]+)\s*<\/module>/g)].map(
    (m) => `${m[1]!.replace(/\/$/, "")}/pom.xml`,
  );
  const rat = /apache-rat|<parent>\s*<groupId>org\.apache\./.test(pom ?? "");
  return {
    image: wrapper ? `eclipse-temurin:${java}` : `maven:3-eclipse-temurin-${java}`,
    notes: [
      ...CACHE_NOTE,
      "Maven's repository (~/.m2) is part of the image.",
      ...(rat
        ? [
            "Apache RAT (in this build) fails on files without a licence header, this one and",
            ".github/kozmic.schema.json among them: add .github/** to its excludes.",
          ]
        : []),
    ],
    install: [WARM_NOTE, `${mvn} -B -ntp test-compile || true`],
    tracked: [
      "pom.xml",
      ...modules,
      ...present(
        files.has,
        ".mvn/wrapper/maven-wrapper.properties",
        ".mvn/maven.config",
        ".tool-versions",
      ),
    ],
    build: [`${mvn} -B -ntp test`],
  };
}

/** A Gradle build's hook (the project's wrapper when it has one); Gradle's home kept in the image. */
export function gradleHook(files: ProjectFiles): StarterHook {
  const buildFile = files.text("build.gradle.kts") ?? files.text("build.gradle");
  const java = javaRelease(buildFile, files.textHereOrRoot(".tool-versions"));
  const wrapper = files.has("gradlew");
  const gradle = wrapper ? "./gradlew" : "gradle";
  return {
    image: wrapper ? `eclipse-temurin:${java}` : `gradle:8-jdk${java}`,
    notes: [
      ...CACHE_NOTE,
      "Gradle's home (GRADLE_USER_HOME) is a directory of the image, not a volume.",
    ],
    env: { GRADLE_USER_HOME: "/var/tmp/gradle-home" },
    install: [WARM_NOTE, `${gradle} --no-daemon testClasses || true`],
    tracked: [
      ...present(
        files.has,
        "settings.gradle.kts",
        "settings.gradle",
        "build.gradle.kts",
        "build.gradle",
        "gradle.properties",
        "gradle/libs.versions.toml",
        "gradle/wrapper/gradle-wrapper.properties",
        ".tool-versions",
      ),
      "*/build.gradle*",
    ],
    build: [`${gradle} --no-daemon test`],
  };
}
