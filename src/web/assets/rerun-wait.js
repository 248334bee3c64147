/* global document, fetch, location, sessionStorage, setTimeout */
// The page between Re-run and the new build: asks the server every second whether the build
// exists (it then answers with a redirect) and goes on to it, for two minutes at most (then
// the planner has failed to make it).
(function () {
  const wait = document.getElementById("rerun-wait");
  if (!wait) return;
  const key = "kozmic-rerun-wait:" + location.pathname;
  let since = Number(sessionStorage.getItem(key));
  if (!since) sessionStorage.setItem(key, String((since = Date.now())));
  function check() {
    if (Date.now() - since > 120000) {
      wait.textContent =
        "The re-run has not appeared after two minutes: Kozmic could not plan it. " +
        "The repository's builds show what it did.";
      return;
    }
    fetch(location.href, { redirect: "manual", credentials: "same-origin" }).then(
      function (response) {
        if (response.type === "opaqueredirect") location.reload();
        else setTimeout(check, Number(wait.dataset.reload) || 1000);
      },
      function () {
        setTimeout(check, Number(wait.dataset.reload) || 1000);
      },
    );
  }
  setTimeout(check, Number(wait.dataset.reload) || 1000);
})();
