/* LumenLater embed script: the whole checkout inside a merchant's page.
 *
 *   <script src="https://api.example/v1/js/lumenlater.js?v=…"></script>
 *   const ll = LumenLater({ publishableKey: "pk_test_…" });
 *   const checkout = ll.checkout.embed({
 *     container: "#checkout",              // a selector or an element
 *     sessionId: "cs_…", clientSecret: "cs_…_secret_…",
 *     onSuccess({ sessionId, billId, orderId }) {},  // confirm the order on your server
 *     onError({ code, message }) {},                 // a refusal or a setup mistake
 *     onCancel() {},
 *     appearance: { accentColor: "#0b6e4f", backgroundColor: "#ffffff", textColor: "#1a1a2e",
 *                   borderRadius: "8px", fontFamily: "Georgia, serif" },
 *   });
 *   checkout.unmount();
 *   ll.checkout.redirectToCheckout({ sessionId: "cs_…" });   // the full hosted page
 *
 * Or with no code: <div id="lumenlater-checkout" data-session="cs_…"
 * data-client-secret="…" data-publishable-key="pk_…" data-appearance='{…}'></div>
 * (lumenlater_sdk.checkout.embed_html writes it) mounts itself; it dispatches
 * "lumenlater:success", "lumenlater:error" and "lumenlater:cancel" DOM events on the
 * container, and on success goes to the session's success_url unless the success event
 * was cancelled (preventDefault).
 *
 * The checkout runs in an iframe of the hosted page (/pay/{id}?embed=1&origin=…), which
 * only the session's embed_origins may frame. Messages between the frames carry
 * {protocol: "lumenlater-checkout", version: 1} and are accepted only from the expected
 * window and origin. Mistakes (a bad key, an unknown session, a missing container) are
 * reported with console.error and to onError, never silently.
 */
(function (global) {
  "use strict";
  var PROTOCOL = "lumenlater-checkout";
  var VERSION = 1;
  var READY_TIMEOUT_MS = 15000;
  var script = document.currentScript;
  var API = script && script.src ? new URL(script.src, location.href).origin : "";

  function report(onError, code, message) {
    var error = { code: code, message: message };
    console.error("LumenLater: " + message + " [" + code + "]");
    if (typeof onError === "function") {
      setTimeout(function () { onError(error); }, 0);
    }
    return error;
  }

  function keyProblem(key) {
    if (typeof key !== "string" || key === "") {
      return ["publishable_key_missing",
        "LumenLater({ publishableKey }) needs your publishable key (pk_test_… or pk_live_…)."];
    }
    if (/^sk_/.test(key)) {
      return ["secret_key_in_browser",
        "A secret key (sk_…) was given to LumenLater() in a web page. Never send it to a " +
        "browser: use the publishable key (pk_…), and roll the exposed secret key now."];
    }
    if (!/^pk_(test|live)_[A-Za-z0-9_-]+$/.test(key)) {
      return ["invalid_publishable_key",
        "LumenLater({ publishableKey }) was given something that is not a publishable key " +
        "(pk_test_… or pk_live_…)."];
    }
    return null;
  }

  function findContainer(container) {
    if (container && container.nodeType === 1) { return container; }
    if (typeof container === "string" && container) {
      try { return document.querySelector(container); } catch (e) { return null; }
    }
    return null;
  }

  function readSession(base, key, sessionId, clientSecret) {
    var url = base + "/v1/checkout/sessions/" + encodeURIComponent(sessionId) +
      "?client_secret=" + encodeURIComponent(clientSecret);
    return fetch(url, {
      headers: { Authorization: "Bearer " + key },
      credentials: "omit",
      cache: "no-store",
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        return { status: r.status, body: body };
      });
    }, function () {
      return { status: 0, body: {} };
    });
  }

  function sessionProblem(answer, sessionId, base) {
    var err = (answer.body && answer.body.error) || {};
    if (answer.status === 0) {
      return ["session_unreachable",
        "Could not read checkout session " + sessionId + " from " + base + ": the session " +
        "does not exist, or this page's origin (" + location.origin + ") is not one of its " +
        "embed_origins (set them on the account or the session), or the API is unreachable."];
    }
    if (answer.status === 401) {
      return ["invalid_publishable_key",
        "The API refused the publishable key (" + (err.code || "401") + "): use this " +
        "account's pk_… key, in the same mode (test or live) as the session."];
    }
    if (answer.status === 404) {
      return ["session_not_found",
        "No checkout session " + sessionId + " with this client secret for this publishable " +
        "key: pass the session's id and client_secret from your server, made with the same " +
        "account."];
    }
    return [err.code || "session_unavailable",
      "Could not read checkout session " + sessionId + " (HTTP " + answer.status + "): " +
      (err.message || "unexpected answer")];
  }

  function embed(key, base, problem, options) {
    var opts = options || {};
    var onError = opts.onError;
    var mounted = null;
    var gone = false;
    var listener = null;
    var timer = null;
    var handle = {
      unmount: function () {
        gone = true;
        if (listener) { window.removeEventListener("message", listener); }
        if (timer) { clearTimeout(timer); }
        if (mounted && mounted.parentNode) { mounted.parentNode.removeChild(mounted); }
        mounted = null;
      },
      get iframe() { return mounted; },
    };
    if (problem) { report(onError, problem[0], problem[1]); return handle; }
    var container = findContainer(opts.container);
    if (!container) {
      report(onError, "container_not_found",
        "ll.checkout.embed({ container }) found no element for " +
        (typeof opts.container === "string" ? JSON.stringify(opts.container) :
          String(opts.container)) + ": pass a selector or an element that is in the page.");
      return handle;
    }
    var sessionId = opts.sessionId;
    if (typeof sessionId !== "string" || !/^cs_[A-Za-z0-9_]+$/.test(sessionId)) {
      report(onError, "invalid_session_id",
        "ll.checkout.embed({ sessionId }) needs the checkout session's id (cs_…).");
      return handle;
    }
    if (typeof opts.clientSecret !== "string" || opts.clientSecret === "") {
      report(onError, "client_secret_missing",
        "ll.checkout.embed({ clientSecret }) needs the session's client_secret.");
      return handle;
    }
    readSession(base, key, sessionId, opts.clientSecret).then(function (answer) {
      if (gone) { return; }
      if (answer.status !== 200) {
        var p = sessionProblem(answer, sessionId, base);
        report(onError, p[0], p[1]);
        return;
      }
      mount(container, answer.body);
    });

    function mount(into, session) {
      var frame = document.createElement("iframe");
      frame.src = base + "/pay/" + encodeURIComponent(sessionId) + "?embed=1&origin=" +
        encodeURIComponent(location.origin);
      frame.title = "Pay later with LumenLater";
      frame.setAttribute("sandbox", "allow-scripts allow-forms allow-same-origin");
      frame.style.cssText = "display:block;width:100%;min-width:280px;height:420px;" +
        "border:0;background:transparent;color-scheme:normal";
      var done = false;
      listener = function (ev) {
        if (ev.source !== frame.contentWindow || ev.origin !== base) { return; }
        var d = ev.data;
        if (!d || d.protocol !== PROTOCOL || d.version !== VERSION || d.sessionId !== sessionId) {
          return;
        }
        if (d.type === "ready") {
          clearTimeout(timer);
          timer = null;
          frame.contentWindow.postMessage({
            protocol: PROTOCOL, version: VERSION, type: "init", sessionId: sessionId,
            appearance: opts.appearance || null,
          }, base);
        } else if (d.type === "resize" && typeof d.height === "number") {
          frame.style.height = Math.max(120, Math.min(4000, Math.ceil(d.height))) + "px";
        } else if (d.type === "success" && !done) {
          done = true;
          if (typeof opts.onSuccess === "function") {
            opts.onSuccess({ sessionId: sessionId, billId: d.billId, orderId: d.orderId });
          }
        } else if (d.type === "error") {
          var error = { code: String(d.code || "payment_failed"), message: String(d.message || "") };
          if (typeof onError === "function") { onError(error); }
          else { console.warn("LumenLater: " + error.message + " [" + error.code + "]"); }
        } else if (d.type === "cancel") {
          if (typeof opts.onCancel === "function") { opts.onCancel(); }
        }
      };
      window.addEventListener("message", listener);
      timer = setTimeout(function () {
        report(onError, "frame_unresponsive",
          "The checkout frame for " + sessionId + " did not load within " +
          READY_TIMEOUT_MS / 1000 + " s (blocked by a Content-Security-Policy of this page, " +
          "or the API is unreachable).");
      }, READY_TIMEOUT_MS);
      while (into.firstChild) { into.removeChild(into.firstChild); }
      into.appendChild(frame);
      mounted = frame;
      handle.session = session;
    }

    return handle;
  }

  function LumenLater(options) {
    if (!(this instanceof LumenLater)) { return new LumenLater(options); }
    var opts = options || {};
    var key = opts.publishableKey;
    var base = (opts.apiBase || API).replace(/\/+$/, "");
    var kp = keyProblem(key);
    if (kp) { console.error("LumenLater: " + kp[1] + " [" + kp[0] + "]"); }
    this.checkout = {
      embed: function (embedOptions) { return embed(key, base, kp, embedOptions); },
      redirectToCheckout: function (redirect) {
        var id = redirect && redirect.sessionId;
        if (typeof id !== "string" || !/^cs_[A-Za-z0-9_]+$/.test(id)) {
          return { error: report(redirect && redirect.onError, "invalid_session_id",
            "ll.checkout.redirectToCheckout({ sessionId }) needs a checkout session id (cs_…).") };
        }
        location.assign(base + "/pay/" + encodeURIComponent(id));
        return { error: null };
      },
    };
  }
  LumenLater.protocol = { name: PROTOCOL, version: VERSION };

  function autoMount() {
    var els = document.querySelectorAll("[data-lumenlater-checkout], #lumenlater-checkout");
    Array.prototype.forEach.call(els, function (el) {
      if (el.getAttribute("data-lumenlater-mounted")) { return; }
      el.setAttribute("data-lumenlater-mounted", "1");
      function fire(name, detail) {
        return el.dispatchEvent(new CustomEvent("lumenlater:" + name,
          { detail: detail, bubbles: true, cancelable: true }));
      }
      var appearance = null;
      try { appearance = JSON.parse(el.getAttribute("data-appearance") || "null"); } catch (e) {
        console.error("LumenLater: data-appearance is not JSON [invalid_appearance]");
      }
      var handle = LumenLater({ publishableKey: el.getAttribute("data-publishable-key") })
        .checkout.embed({
          container: el,
          sessionId: el.getAttribute("data-session"),
          clientSecret: el.getAttribute("data-client-secret"),
          appearance: appearance,
          onSuccess: function (r) {
            var s = handle.session;
            if (fire("success", r) && s && s.success_url) {
              location.assign(String(s.success_url).split("{SESSION_ID}").join(r.sessionId));
            }
          },
          onError: function (e) { fire("error", e); },
          onCancel: function () { fire("cancel", {}); },
        });
    });
  }

  global.LumenLater = LumenLater;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", autoMount);
  } else {
    autoMount();
  }
})(window);
