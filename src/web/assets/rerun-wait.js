/* global document, fetch, location, sessionStorage, setTimeout */
// The page between Re-run and the new build: asks the same address again in the background
// until the server sends it on (a redirect) to the new job's page, then goes there; for two
// minutes at most (then the planner has failed to make it). The page itself stays put, so a
// link the reader clicks meanwhile is not lost to a reload.
(function () {
  const wait = document.getElementById("rerun-wait");
  if (!wait) return;
  const key = "kozmic-rerun-wait:" + location.pathname;
  let since = Number(sessionStorage.getItem(key));
  if (!since) sessionStorage.setItem(key, String((since = Date.now())));
  const every = Number(wait.dataset.reload) || 1000;

  function giveUp() {
    wait.textContent =
      "The re-run has not appeared after two minutes: Kozmic could not plan it. " +
      "The repository's builds show what it did.";
  }

  function check() {
    if (Date.now() - since > 120000) return giveUp();
    fetch(location.href, { credentials: "same-origin", headers: { accept: "text/html" } })
      .then(function (response) {
        if (response.redirected) location.assign(response.url);
        else setTimeout(check, every);
      })
      .catch(function () {
        setTimeout(check, every);
      });
  }
  setTimeout(check, every);
})();
