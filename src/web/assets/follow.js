/* global document, EventSource, location */
// Streams new lines into a running job's log page (server-sent events). The server numbers
// and renders every line; on reconnection the browser's Last-Event-ID resumes at the right
// chunk, so no line is lost or doubled.
(function () {
  const log = document.getElementById("log");
  if (!log || log.dataset.live !== "true") return;
  const follow = document.getElementById("follow");
  if (follow && location.hash) follow.checked = false;
  const status = document.getElementById("status");
  // Keep the page responsive when a long log is followed: older lines stay on earlier parts.
  const MAX_LINES = 20000;
  const source = new EventSource(
    location.pathname + "/live?seq=" + encodeURIComponent(log.dataset.nextSeq || "0"),
  );
  source.addEventListener("lines", function (event) {
    const data = JSON.parse(event.data);
    log.insertAdjacentHTML("beforeend", data.html);
    while (log.childElementCount > MAX_LINES) log.firstElementChild.remove();
    if (follow && follow.checked && log.lastElementChild) {
      log.lastElementChild.scrollIntoView({ block: "end" });
    }
  });
  source.addEventListener("end", function (event) {
    const data = JSON.parse(event.data);
    if (status) status.innerHTML = data.statusHtml;
    const durations = document.getElementById("durations");
    if (durations) durations.innerHTML = data.durationsHtml;
    log.dataset.live = "false";
    source.close();
    const followBox = follow && follow.closest("p");
    if (followBox) followBox.remove();
  });
})();
