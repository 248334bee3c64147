/* global document, EventSource, fetch, location, setInterval, clearInterval, URLSearchParams, FormData, window */
// A running job's page: streams new lines into the log (server-sent events), keeps the job's
// status and actions current, and ticks its durations.
//
// The server numbers and renders every line; on reconnection the browser's Last-Event-ID
// resumes at the right chunk, so no line is lost or doubled. A section that starts comes as a
// <details>; a line of a section begun earlier names it (data-section) and goes into it; each
// event lists the sections that ended, as the runner recorded them. `state` events carry the
// status and the viewer's actions rendered together, so they never disagree. A user group
// comes as a <details class="group"> naming its section, like a line.
//
// Following keeps the newest line in view until the reader scrolls up, selects text in the
// log or goes to a line; "Follow again" (or the checkbox) resumes it at the end.
(function () {
  const log = document.getElementById("log");
  if (!log || log.dataset.live !== "true") return;
  const follow = document.getElementById("follow");
  const again = document.getElementById("follow-again");
  const status = document.getElementById("status");
  const actions = document.getElementById("actions");
  // Keep the page responsive when a long log is followed: older lines leave the page (the
  // reloaded page loads them on demand).
  const MAX_LINES = 20000;
  const WORDS = { success: "succeeded", failure: "failed", timed_out: "timed out" };

  function seconds(s) {
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
    const m = Math.floor(s / 60);
    return m + " min " + Math.round(s - m * 60) + " s";
  }

  // --- Following -------------------------------------------------------------------------
  /** The window's scroll position at the last scroll event (or this script's own scroll). */
  let lastY = window.scrollY;
  let unseen = 0;

  function following() {
    return Boolean(follow && follow.checked);
  }

  function newestLine() {
    const lines = log.querySelectorAll(".line");
    return lines[lines.length - 1];
  }

  function toEnd() {
    const newest = newestLine();
    if (newest) newest.scrollIntoView({ block: "end" });
    lastY = window.scrollY;
  }

  // Once a frame at most: scrolling makes the browser lay the log out, which a busy job
  // would otherwise ask for with every event.
  let endPending = false;
  function toEndSoon() {
    if (endPending) return;
    endPending = true;
    window.requestAnimationFrame(function () {
      endPending = false;
      if (following()) toEnd();
    });
  }

  function pause() {
    if (!following()) return;
    follow.checked = false;
    unseen = 0;
    showAgain();
  }

  function resume() {
    if (follow) follow.checked = true;
    if (again) again.hidden = true;
    toEnd();
  }

  function showAgain() {
    if (!again || log.dataset.live !== "true") return;
    again.hidden = false;
    again.textContent =
      unseen > 0
        ? "Follow again (" + unseen + " new line" + (unseen === 1 ? "" : "s") + ")"
        : "Follow again";
  }

  if (follow && location.hash) follow.checked = false;
  if (follow) {
    follow.addEventListener("change", function () {
      if (follow.checked) resume();
      else showAgain();
    });
  }
  if (again) again.addEventListener("click", resume);
  // The reader scrolled up, away from the newest line (the browser's own adjustments, as
  // lines above get their real heights, leave it in view).
  window.addEventListener(
    "scroll",
    function () {
      const y = window.scrollY;
      const up = y < lastY - 1;
      lastY = y;
      if (!up || !following()) return;
      const newest = newestLine();
      if (newest && newest.getBoundingClientRect().top >= window.innerHeight) pause();
    },
    { passive: true },
  );
  window.addEventListener("hashchange", pause);
  document.addEventListener("selectionchange", function () {
    const selection = document.getSelection();
    if (selection && !selection.isCollapsed && log.contains(selection.anchorNode)) pause();
  });
  if (following()) toEnd();
  else if (follow) showAgain();

  // --- Durations that tick -----------------------------------------------------------------
  const elapsed = document.getElementById("elapsed");
  // The runner's and server's clock, not the browser's: times on the page come from them.
  const skew = elapsed ? Number(elapsed.dataset.now) - Date.now() : 0;
  function tick() {
    const now = Date.now() + skew;
    const since = (element) => seconds(Math.max(0, now - Number(element.dataset.started)) / 1000);
    if (elapsed) elapsed.textContent = since(elapsed);
    for (const section of log.querySelectorAll("details.section-running")) {
      const time = section.querySelector("summary .section-time");
      if (time) time.textContent = since(section);
    }
  }
  tick();
  const ticking = setInterval(tick, 1000);

  // --- The log --------------------------------------------------------------------------
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
    // Consecutive nodes for the same parent go in at once: a busy log brings thousands.
    let parent = null;
    let batch = [];
    const flush = function () {
      if (batch.length) parent.append.apply(parent, batch);
      batch = [];
    };
    for (const node of Array.from(template.content.children)) {
      const section = openSection();
      const ofSection = node.matches(".line, details.group");
      let into = log;
      if (ofSection && section && node.dataset.section === section.dataset.section) {
        into = section;
      } else if (section && node.matches("details.section")) {
        // A section that starts ends the one before it: the job went on.
        endSection(section, "success", Number(node.dataset.started));
      }
      if (into !== parent) flush();
      parent = into;
      batch.push(node);
      // A section goes in at once: the nodes after it may belong in it (openSection).
      if (node.matches("details.section")) flush();
      unseen += node.matches(".line") ? 1 : node.querySelectorAll(".line").length;
    }
    flush();
  }

  function showState(data) {
    if (status) status.innerHTML = data.statusHtml;
    if (actions) actions.innerHTML = data.actionsHtml;
  }

  const source = new EventSource(
    location.pathname + "/live?seq=" + encodeURIComponent(log.dataset.nextSeq || "0"),
  );
  source.addEventListener("state", function (event) {
    showState(JSON.parse(event.data));
  });
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
    const lines = log.querySelectorAll(".line");
    if (lines.length > MAX_LINES) {
      for (let i = 0; i < lines.length - MAX_LINES; i++) lines[i].remove();
      for (const emptied of log.querySelectorAll("details.section")) {
        if (!emptied.querySelector(".line")) emptied.remove();
      }
    }
    if (following()) toEndSoon();
    else showAgain();
  });
  source.addEventListener("end", function (event) {
    const data = JSON.parse(event.data);
    const open = openSection();
    if (open) endSection(open, data.sectionOutcome, data.finishedAt);
    showState(data);
    const durations = document.getElementById("durations");
    if (durations) durations.innerHTML = data.durationsHtml;
    const runningFor = document.getElementById("running-for");
    if (runningFor) runningFor.remove();
    clearInterval(ticking);
    // The last lines into view now, not at the next frame: once the log is no longer live,
    // lines out of view skip layout (content-visibility) and the pending scroll is late.
    if (following()) toEnd();
    log.dataset.live = "false";
    source.close();
    const followBox = follow && follow.closest("label");
    if (followBox) followBox.remove();
    if (again) again.remove();
  });

  // --- Cancel, with feedback --------------------------------------------------------------
  // Says "Cancelling…" at once; the live stream then brings the end. Without this script the
  // form posts and the page comes back saying the same.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.matches || !form.matches("form.cancel")) return;
    event.preventDefault();
    const body = new URLSearchParams(new FormData(form));
    const before = actions ? actions.innerHTML : "";
    if (actions) actions.textContent = "";
    if (status) status.innerHTML = '<span class="state state-running">Cancelling…</span>';
    // Refused (signed out, no longer allowed) or unsent: post the form itself, so the server's
    // answer says why.
    function post() {
      if (actions) actions.innerHTML = before;
      const resend = actions && actions.querySelector("form.cancel");
      if (resend) resend.submit();
    }
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin" }).then(function (
      response,
    ) {
      if (!response.ok) post();
    }, post);
  });
})();
