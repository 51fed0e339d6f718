/* Lianxin consoles: timers, the live indicator and the end of a revoked session. No build step. */
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-since"));
      if (isNaN(since)) { return; }
      var s = Math.max(0, Math.floor((now - since) / 1000));
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
      el.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s % 60);
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);

  function status(live) {
    var el = document.getElementById("ws-status");
    if (!el) { return; }
    el.classList.toggle("live", live);
    el.classList.toggle("down", !live);
    el.textContent = el.getAttribute(live ? "data-connected" : "data-disconnected");
  }
  document.addEventListener("htmx:wsOpen", function () { status(true); });
  document.addEventListener("htmx:wsClose", function (evt) {
    status(false);
    var code = evt.detail && evt.detail.event && evt.detail.event.code;
    // 4001: the session ended (logout, password change, account disabled) or the unit or role changed:
    // the login page sends a still-valid session on to its current console. Anything else reconnects.
    if (code === 4001 || code === 1008 || code === 403) {
      window.location.href = document.body.getAttribute("data-login-url");
    }
  });
  // The knowledge base's "use this answer" (agent console): the article's text into the resolution field.
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-testid=kb-use][data-answer]");
    if (!button) { return; }
    var field = document.querySelector("#work [name=resolution]");
    if (field) { field.value = button.getAttribute("data-answer"); field.focus(); }
  });
  document.addEventListener("htmx:afterSwap", tick);
  document.addEventListener("htmx:oobAfterSwap", tick);
})();
