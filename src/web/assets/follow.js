/* global document, EventSource, location */
// Streams new lines into a running job's log page (server-sent events). The server numbers
// and renders every line; on reconnection the browser's Last-Event-ID resumes at the right
// chunk, so no line is lost or doubled. A section that starts comes as a <details>; a line
// of a section begun earlier names it (data-section) and goes into it; each event lists
// the sections that ended, as the runner recorded them. A user group comes as a <details
// class="group"> naming its section, like a line.
(function () {
  const log = document.getElementById("log");
  if (!log || log.dataset.live !== "true") return;
  const follow = document.getElementById("follow");
  if (follow && location.hash) follow.checked = false;
  const status = document.getElementById("status");
  // Keep the page responsive when a long log is followed: older lines leave the page (the
  // reloaded page loads them on demand).
  const MAX_LINES = 20000;
  const WORDS = { success: "succeeded", failure: "failed", skipped: "skipped" };
  WORDS.cancelled = "cancelled";
  WORDS.timed_out = "timed out";

  function seconds(s) {
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
    const m = Math.floor(s / 60);
    return m + " min " + Math.round(s - m * 60) + " s";
  }

  /** The section still running at the end of the log, if any. */
  function openSection() {
    const last = log.lastElementChild;
    return last && last.matches("details.section-running") ? last : null;
  }

  function endSection(section, state, endedAt) {
    section.classList.remove("section-running");
    section.classList.add("section-" + state);
    const summary = section.querySelector("summary");
    summary.querySelector(".section-state").textContent = WORDS[state] || state;
    const took = (endedAt - Number(section.dataset.started)) / 1000;
    summary.querySelector(".section-time").textContent = seconds(Math.max(0, took));
    if (state === "success" || state === "skipped") section.open = false;
  }

  function append(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    for (const node of Array.from(template.content.children)) {
      const section = openSection();
      const ofSection = node.matches(".line, details.group");
      if (ofSection && section && node.dataset.section === section.dataset.section) {
        section.append(node);
      } else {
        // A section that starts ends the one before it: the job went on.
        if (section && node.matches("details.section")) {
          endSection(section, "success", Number(node.dataset.started));
        }
        log.append(node);
      }
    }
  }

  const source = new EventSource(
    location.pathname + "/live?seq=" + encodeURIComponent(log.dataset.nextSeq || "0"),
  );
  source.addEventListener("lines", function (event) {
    const data = JSON.parse(event.data);
    append(data.html);
    for (const ended of data.ended || []) {
      const section = log.querySelector(
        'details.section-running[data-section="' +
          ended.name +
          '"][data-start-seq="' +
          Number(ended.startSeq) +
          '"]',
      );
      if (section) endSection(section, ended.state, ended.endedAt);
    }
    let lines = log.querySelectorAll(".line");
    if (lines.length > MAX_LINES) {
      for (let i = 0; i < lines.length - MAX_LINES; i++) lines[i].remove();
      for (const emptied of log.querySelectorAll("details.section")) {
        if (!emptied.querySelector(".line")) emptied.remove();
      }
      lines = log.querySelectorAll(".line");
    }
    const newest = lines[lines.length - 1];
    if (follow && follow.checked && newest) newest.scrollIntoView({ block: "end" });
  });
  source.addEventListener("end", function (event) {
    const data = JSON.parse(event.data);
    const open = openSection();
    if (open) endSection(open, data.sectionOutcome, data.finishedAt);
    if (status) status.innerHTML = data.statusHtml;
    const durations = document.getElementById("durations");
    if (durations) durations.innerHTML = data.durationsHtml;
    log.dataset.live = "false";
    source.close();
    const followBox = follow && follow.closest("label");
    if (followBox) followBox.remove();
  });
})();
