/* global document, location, sessionStorage, setTimeout */
// The page between Re-run and the new build: reloads until the server sends the browser on
// to the new job's page, for two minutes at most (then the planner has failed to make it).
(function () {
  const wait = document.getElementById("rerun-wait");
  if (!wait) return;
  const key = "kozmic-rerun-wait:" + location.pathname;
  let since = Number(sessionStorage.getItem(key));
  if (!since) sessionStorage.setItem(key, String((since = Date.now())));
  if (Date.now() - since > 120000) {
    wait.textContent =
      "The re-run has not appeared after two minutes: Kozmic could not plan it. " +
      "The repository's builds show what it did.";
    return;
  }
  setTimeout(
    function () {
      location.reload();
    },
    Number(wait.dataset.reload) || 1000,
  );
})();
