/* global document, fetch, history, location, window */
// The job page's log: loads the lines a section or "Show earlier lines" asks for (GET
// <job>/lines), opens a failed section at its end, reveals linked lines wherever they are,
// and searches the whole log on the server (GET <job>/search). Sections and groups are
// <details>, so what the page holds works without it.
(function () {
  const log = document.getElementById("log");
  if (!log) return;
  const base = location.pathname.replace(/\/$/, "");

  /** Opens the sections and groups around an element and scrolls it into view. */
  function reveal(element, block) {
    for (let d = element.closest("details"); d; d = d.parentElement.closest("details")) {
      d.open = true;
    }
    element.scrollIntoView({ block: block || "center" });
  }

  function moreButton(from, to) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "more";
    button.dataset.from = from;
    button.dataset.to = to;
    labelMore(button);
    return button;
  }

  function labelMore(button) {
    const from = Number(button.dataset.from);
    const to = Number(button.dataset.to);
    const what = from === to ? "line " + from : "lines " + from + "–" + to;
    button.textContent = "Show " + (from === 1 ? "" : "earlier ") + what;
  }

  /**
   * Loads lines `from`..`to` of the range a button stands for (the server answers at most a
   * window, from the range's end) and puts them in its place; what is left stays a button.
   */
  async function load(button, from, to) {
    if (button.disabled) return;
    button.disabled = true;
    const res = await fetch(base + "/lines?from=" + from + "&to=" + to);
    button.disabled = false;
    if (!res.ok) return;
    const data = await res.json();
    if (data.from === null || !button.isConnected) return;
    const first = Number(button.dataset.from);
    const last = Number(button.dataset.to);
    const template = document.createElement("template");
    template.innerHTML = data.html;
    const nodes = Array.from(template.content.childNodes);
    if (data.to < last) nodes.push(moreButton(data.to + 1, last));
    button.after.apply(button, nodes);
    if (data.from > first) {
      button.dataset.to = data.from - 1;
      labelMore(button);
    } else button.remove();
  }

  /** The element of line n, loading the lines around it when they are not on the page yet. */
  async function ensureLine(n) {
    const id = "L" + n;
    if (document.getElementById(id)) return document.getElementById(id);
    for (const button of log.querySelectorAll("button.more")) {
      const from = Number(button.dataset.from);
      const to = Number(button.dataset.to);
      if (n >= from && n <= to) {
        await load(button, Math.max(from, n - 1000), Math.min(to, n + 999));
        break;
      }
    }
    return document.getElementById(id);
  }

  for (const button of log.querySelectorAll("button.more")) button.hidden = false;
  log.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("button.more");
    if (button) load(button, Number(button.dataset.from), Number(button.dataset.to));
  });
  // A folded section opened for the first time: its last lines.
  log.addEventListener(
    "toggle",
    function (event) {
      const section = event.target;
      if (!section.matches || !section.matches("details.section") || !section.open) return;
      if (section.querySelector(":scope > .line, :scope > details.group")) return;
      const button = section.querySelector(":scope > button.more");
      if (button) load(button, Number(button.dataset.from), Number(button.dataset.to));
    },
    true,
  );

  // A linked line (or the first of a range, #L10-L20): load it if needed, unfold what holds
  // it, then scroll as the browser would. log-tools.js marks the range.
  async function revealHash() {
    const id = /^L(\d+)(?:-L\d+)?$/.exec(decodeURIComponent(location.hash.slice(1)));
    if (!id) return false;
    const target = await ensureLine(Number(id[1]));
    if (!target || !log.contains(target)) return false;
    reveal(target, "start");
    return true;
  }
  window.addEventListener("hashchange", revealHash);
  // "First error" and "End": jump again even when the address already names the line.
  for (const jump of document.querySelectorAll("a.jump")) {
    jump.addEventListener("click", function (event) {
      event.preventDefault();
      history.replaceState(null, "", jump.getAttribute("href"));
      revealHash();
    });
  }

  /** A failed section open at its end, as GitHub Actions opens one. */
  function showFailure() {
    const failed = Array.from(
      log.querySelectorAll(
        "details.section-failure, details.section-timed_out, details.section-cancelled",
      ),
    ).pop();
    if (!failed) return;
    const lines = failed.querySelectorAll(".line:not([hidden])");
    const last = lines[lines.length - 1];
    if (last) reveal(last, "end");
    else reveal(failed.querySelector("summary"), "start");
  }
  revealHash().then(function (found) {
    if (!found && log.dataset.live !== "true") showFailure();
  });

  const form = document.getElementById("log-search");
  const query = document.getElementById("log-query");
  const hits = document.getElementById("log-hits");
  const previous = document.getElementById("log-prev");
  if (!form || !query || !hits) return;
  form.hidden = false;
  /** The last search's answer: matching line numbers, in order. */
  let found = null;
  let current = -1;

  function markMatches() {
    for (const line of log.querySelectorAll(".line.match")) line.classList.remove("match");
    if (!found) return;
    for (const n of found.lines) {
      const line = document.getElementById("L" + n);
      if (line) line.classList.add("match");
    }
  }

  async function search(text) {
    hits.textContent = "Searching…";
    const res = await fetch(base + "/search?q=" + encodeURIComponent(text));
    const data = res.ok ? await res.json() : { lines: [], capped: false };
    found = { text: text, lines: data.lines, capped: data.capped };
    current = -1;
    markMatches();
  }

  async function step(direction) {
    const text = query.value.trim();
    if (text === "") return;
    if (!found || found.text !== text) await search(text);
    const count = found.lines.length;
    if (count === 0) {
      hits.textContent = "No matching lines";
      return;
    }
    current = current === -1 && direction < 0 ? count - 1 : (current + direction + count) % count;
    const n = found.lines[current];
    const line = await ensureLine(n);
    markMatches();
    for (const old of log.querySelectorAll(".line.current")) old.classList.remove("current");
    const total = count + (found.capped ? "+" : "");
    hits.textContent = "line " + n + ": match " + (current + 1) + " of " + total;
    if (line) {
      line.classList.add("current");
      reveal(line);
    }
  }

  query.addEventListener("input", function () {
    found = null;
    current = -1;
    markMatches();
    for (const old of log.querySelectorAll(".line.current")) old.classList.remove("current");
    hits.textContent = "";
  });
  query.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.shiftKey) {
      event.preventDefault();
      step(-1);
    }
  });
  if (previous) previous.addEventListener("click", () => step(-1));
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    step(1);
  });
})();
