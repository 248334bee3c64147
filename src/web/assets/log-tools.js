/* global document, history, localStorage, location, MutationObserver, navigator, window */
// The log's line tools: `#L10-L20` ranges (shift-click on a line number extends one), "Copy
// link" for the lines in the address, and timestamps remembered across pages as clock time
// or time since the job started. The page reads fine without it.
(function () {
  const log = document.getElementById("log");
  if (!log) return;
  const tools = document.querySelector(".log-tools");

  // --- Ranges of lines -------------------------------------------------------------------
  /** Most lines a range marks: a typo in a link should not walk a whole log. */
  const MAX_RANGE = 10000;
  const RANGE = /^#L(\d{1,9})(?:-L(\d{1,9}))?$/;

  /** The lines the address names, first and last, or null. */
  function rangeOf(hash) {
    const m = RANGE.exec(hash);
    if (!m) return null;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    return {
      first: Math.min(a, b),
      last: Math.min(Math.max(a, b), Math.min(a, b) + MAX_RANGE - 1),
    };
  }

  function unfold(element) {
    for (let d = element.closest("details"); d; d = d.parentElement.closest("details")) {
      d.open = true;
    }
  }

  function markRange(scroll) {
    for (const line of log.querySelectorAll(".line.in-range")) line.classList.remove("in-range");
    const range = rangeOf(location.hash);
    showCopy(range);
    if (!range) return;
    let first = null;
    for (let n = range.first; n <= range.last; n++) {
      const line = document.getElementById("L" + n);
      if (!line || !log.contains(line)) continue;
      line.classList.add("in-range");
      unfold(line);
      if (!first) first = line;
    }
    if (first && scroll) first.scrollIntoView({ block: "start" });
  }

  // Shift-click on a line number: from the line in the address to this one.
  log.addEventListener("click", function (event) {
    const number = event.target.closest && event.target.closest("a.ln");
    if (!number || !event.shiftKey) return;
    const from = rangeOf(location.hash);
    const n = Number(number.getAttribute("href").slice(2));
    if (!from || !Number.isInteger(n)) return;
    event.preventDefault();
    const selection = document.getSelection();
    if (selection) selection.removeAllRanges();
    const anchor = from.first === n ? from.last : from.first;
    const hash = "#L" + Math.min(anchor, n) + "-L" + Math.max(anchor, n);
    // Replaced, not pushed: the view stays where the reader clicked.
    history.replaceState(null, "", hash);
    markRange(false);
  });
  window.addEventListener("hashchange", function () {
    markRange(true);
  });
  // Lines of the range loaded later (log-page.js loads a linked line's window on demand).
  new MutationObserver(function (records) {
    const range = rangeOf(location.hash);
    if (!range) return;
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (!node.querySelectorAll) continue;
        const lines = node.matches(".line") ? [node] : node.querySelectorAll(".line");
        for (const line of lines) {
          const n = Number(line.id.slice(1));
          if (n >= range.first && n <= range.last) line.classList.add("in-range");
        }
      }
    }
  }).observe(log, { childList: true, subtree: true });

  // --- Copy link -------------------------------------------------------------------------
  let copy = null;
  let copied = null;
  if (tools) {
    copy = document.createElement("button");
    copy.type = "button";
    copy.id = "copy-line-link";
    copy.hidden = true;
    copied = document.createElement("span");
    copied.id = "copy-line-status";
    copied.setAttribute("role", "status");
    tools.append(copy, copied);
    copy.addEventListener("click", function () {
      const link = location.href;
      const done = function () {
        copied.textContent = "Link copied.";
      };
      const manual = function () {
        copied.textContent = "Copy this link: " + link;
      };
      if (navigator.clipboard) navigator.clipboard.writeText(link).then(done, manual);
      else manual();
    });
  }

  function showCopy(range) {
    if (!copy) return;
    copy.hidden = !range;
    copied.textContent = "";
    if (range) {
      copy.textContent =
        range.first === range.last
          ? "Copy link to line " + range.first
          : "Copy link to lines " + range.first + "–" + range.last;
    }
  }

  markRange(RANGE.test(location.hash) && location.hash.includes("-"));

  // --- Timestamps ------------------------------------------------------------------------
  const show = document.getElementById("show-timestamps");
  const kind = document.getElementById("timestamp-kind");
  const kindLabel = document.getElementById("timestamp-kind-label");
  const startedAt = document.querySelector("#started time[datetime]");
  const jobStart = startedAt ? Date.parse(startedAt.getAttribute("datetime")) : NaN;
  const KEY = "kozmic.timestamps";

  function remembered() {
    try {
      return localStorage.getItem(KEY) || "off";
    } catch {
      return "off";
    }
  }
  function remember(value) {
    try {
      localStorage.setItem(KEY, value);
    } catch {
      // Storage is off: the choice lasts as long as the page.
    }
  }

  function sinceStart(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const pad = function (x) {
      return String(x).padStart(2, "0");
    };
    return "+" + (h > 0 ? h + ":" + pad(m) : String(m)) + ":" + pad(s % 60);
  }

  /** Writes each stamp under `root` as the chosen kind (the clock time stays in its title). */
  function label(root) {
    const elapsed = kind && kind.value === "elapsed";
    for (const stamp of root.querySelectorAll("time.ts[datetime]")) {
      const at = Date.parse(stamp.getAttribute("datetime"));
      if (!stamp.dataset.clock) stamp.dataset.clock = stamp.textContent;
      stamp.textContent = elapsed ? sinceStart(at - jobStart) : stamp.dataset.clock;
      stamp.title = elapsed ? stamp.dataset.clock + " UTC" : "";
    }
  }

  if (show && kind && kindLabel) {
    if (Number.isNaN(jobStart)) kind.querySelector('option[value="elapsed"]').disabled = true;
    kindLabel.hidden = false;
    const saved = remembered();
    show.checked = saved !== "off";
    if (saved === "elapsed" && !Number.isNaN(jobStart)) kind.value = "elapsed";
    const changed = function () {
      remember(show.checked ? kind.value : "off");
      label(log);
    };
    show.addEventListener("change", changed);
    kind.addEventListener("change", function () {
      show.checked = true;
      changed();
    });
    if (kind.value === "elapsed") label(log);
    // Lines that arrive later (live, or unfolded on demand) get the same kind of stamp.
    new MutationObserver(function (records) {
      if (kind.value !== "elapsed") return;
      for (const record of records) {
        for (const node of record.addedNodes) if (node.querySelectorAll) label(node);
      }
    }).observe(log, { childList: true, subtree: true });
  }
})();
