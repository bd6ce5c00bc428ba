/* LumenLater embedded checkout widget.
 * <div id="lumenlater-checkout" data-session="cs_…" data-client-secret="…"
 *      data-publishable-key="pk_test_…"></div>
 * <script src="{base}/v1/js/lumenlater.js" async></script>
 * Reads the session with the publishable key + client_secret and renders a
 * summary with a button to the hosted page (which does the payment). */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src).origin : "";
  function fmt(stroops) {
    var whole = Math.floor(stroops / 1e7), frac = String(stroops % 1e7).padStart(7, "0");
    return whole + "." + frac.replace(/0+$/, "").padEnd(2, "0") + " USDC";
  }
  function render(el) {
    var id = el.getAttribute("data-session");
    var secret = el.getAttribute("data-client-secret");
    var key = el.getAttribute("data-publishable-key");
    if (!id || !secret || !key) { el.textContent = "LumenLater: missing data attributes"; return; }
    fetch(base + "/v1/checkout/sessions/" + encodeURIComponent(id) +
          "?client_secret=" + encodeURIComponent(secret),
          { headers: { Authorization: "Bearer " + key } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (s) {
        el.innerHTML = "";
        var box = document.createElement("section");
        box.setAttribute("aria-label", "Pay later with LumenLater");
        var p = document.createElement("p");
        p.textContent = "Total: " + fmt(s.amount);
        box.appendChild(p);
        if (s.status === "open") {
          var a = document.createElement("a");
          a.href = s.url; a.textContent = "Pay later with LumenLater"; a.setAttribute("role", "button");
          box.appendChild(a);
        } else {
          var done = document.createElement("p");
          done.setAttribute("role", "status");
          done.textContent = s.status === "complete" ? "Paid — thank you." : "This checkout has expired.";
          box.appendChild(done);
        }
        el.appendChild(box);
      })
      .catch(function (e) { el.textContent = "LumenLater checkout unavailable (" + e.message + ")"; });
  }
  function init() {
    var els = document.querySelectorAll("[data-lumenlater-checkout], #lumenlater-checkout");
    for (var i = 0; i < els.length; i++) { render(els[i]); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
})();
