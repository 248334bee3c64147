/* global document, location, window */
// The job page's log: opens the section of a linked line, brings a failed section into view,
// and searches the lines of this part. Sections are <details>, so the page works without it.
(function () {
  const log = document.getElementById("log");
  if (!log) return;

  /** Opens the sections around an element; true when one was closed. */
  function unfold(element) {
    let opened = false;
    for (let d = element.closest("details"); d; d = d.parentElement.closest("details")) {
      if (!d.open) opened = d.open = true;
    }
    return opened;
  }

  /** Opens the sections around an element and scrolls it into view. */
  function reveal(element, block) {
    unfold(element);
    element.scrollIntoView({ block: block || "center" });
  }

  // A linked line in a folded section: unfold it, then scroll as the browser would have.
  function revealHash() {
    const id = decodeURIComponent(location.hash.slice(1));
    const target = id && document.getElementById(id);
    if (!target || !log.contains(target)) return false;
    if (unfold(target)) target.scrollIntoView({ block: "start" });
    return true;
  }
  window.addEventListener("hashchange", revealHash);
  if (!revealHash() && log.dataset.live !== "true") {
    const failed = log.querySelector(
      "details.section-failure, details.section-timed_out, details.section-cancelled",
    );
    if (failed) reveal(failed.querySelector("summary"), "start");
  }

  const form = document.getElementById("log-search");
  const query = document.getElementById("log-query");
  const hits = document.getElementById("log-hits");
  if (!form || !query || !hits) return;
  form.hidden = false;
  let matches = [];
  let current = -1;

  function search() {
    for (const line of matches) line.classList.remove("match", "current");
    const text = query.value.trim().toLowerCase();
    matches = [];
    current = -1;
    if (text !== "") {
      for (const line of log.querySelectorAll(".line")) {
        const content = line.querySelector(".lc");
        if (content && content.textContent.toLowerCase().includes(text)) {
          line.classList.add("match");
          matches.push(line);
        }
      }
    }
    hits.textContent =
      text === ""
        ? ""
        : matches.length === 1
          ? "1 matching line"
          : matches.length + " matching lines";
  }

  function next() {
    if (matches.length === 0) return;
    if (current >= 0) matches[current].classList.remove("current");
    current = (current + 1) % matches.length;
    const line = matches[current];
    line.classList.add("current");
    hits.textContent =
      "line " + line.id.slice(1) + ": match " + (current + 1) + " of " + matches.length;
    reveal(line);
  }

  query.addEventListener("input", search);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (current === -1 && matches.length === 0) search();
    next();
  });
})();
