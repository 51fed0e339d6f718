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
  // A new call popped while the register form holds another call's caller. An untouched form is
  // moved to the new call in place (its number, its name or none — never the last caller's); one
  // with a demand typed in is kept, with a warning, so nothing the agent wrote is lost. In place,
  // not re-fetched: a fetch racing the agent's own click would wipe what they chose meanwhile.
  document.addEventListener("htmx:oobAfterSwap", function () {
    var pop = document.getElementById("pop");
    var work = document.getElementById("work");
    var linkedid = pop && pop.getAttribute("data-linkedid");
    if (!linkedid || !work) { return; }
    var linked = work.querySelector("[name=call_linkedid]");
    if (!linked || linked.value === linkedid) { return; }
    var content = work.querySelector("[name=content]");
    if (content && content.value.trim()) {
      var hint = work.querySelector("[data-testid=stale-form]");
      if (hint) { hint.hidden = false; }
      return;
    }
    var set = function (name, value) {
      var field = work.querySelector("[name=" + name + "]");
      if (field) { field.value = value; }
    };
    set("phone", pop.getAttribute("data-phone") || "");
    set("caller_name", pop.getAttribute("data-caller-name") || "");
    var optOut = work.querySelector("[name=no_messages]");
    if (optOut) { optOut.checked = false; }  // the last caller's choice; the new one's is kept on record
    linked.value = linkedid;
  });
  document.addEventListener("htmx:afterSwap", tick);
  // The work panel (register form / result card) was swapped: put the keyboard where the agent
  // goes next — the first field with an error, the result's heading, an empty phone, or the demand.
  document.addEventListener("htmx:afterSwap", function (evt) {
    if (!evt.detail || !evt.detail.target || evt.detail.target.id !== "work") { return; }
    var work = document.getElementById("work");
    if (!work) { return; }
    var error = work.querySelector(".field .error");
    var target = error ? error.parentNode.querySelector("input, select, textarea") : work.querySelector("[data-focus]");
    if (!target) {
      var phone = work.querySelector("[name=phone]");
      target = phone && !phone.value ? phone : work.querySelector("[name=content]");
    }
    if (target) { target.focus(); }
  });
  document.addEventListener("htmx:oobAfterSwap", tick);
})();
