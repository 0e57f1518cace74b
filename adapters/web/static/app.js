// avibot chat page: stream answers over Server-Sent Events and keep the view tidy.
// No inline handlers and no eval, so a strict Content-Security-Policy works.
(function () {
  "use strict";

  function conversation() { return document.getElementById("conversation"); }

  function scrollDown() {
    var c = conversation();
    if (c) { c.scrollTop = c.scrollHeight; }
  }

  function notice(text) {
    var n = document.getElementById("notice");
    if (!n) { return; }
    n.textContent = text;
    n.hidden = !text;
  }

  // The header's mode is live: #mode polls /htmx/mode, and is asked again after every answer (an
  // answer may be the one that found the model gone). When the mode changes, the model picker reloads.
  var UNREACHABLE = "The server cannot be reached.";
  var shownMode = null;

  function refreshMode() {
    document.body.dispatchEvent(new CustomEvent("avibot-refresh"));
  }

  function modeShown(el) {
    var mode = el.getAttribute("data-mode");
    if (shownMode !== null && mode !== shownMode) {
      document.body.dispatchEvent(new CustomEvent("avibot-mode-changed"));
    }
    shownMode = mode;
  }

  function isPoll(elt) { return !!elt && elt.id === "mode"; }

  function replace(el, html) {
    if (window.htmx && htmx.swap) {
      htmx.swap(el, html, { swapStyle: "outerHTML" });
    } else {
      el.outerHTML = html;
    }
    scrollDown();
  }

  // The placeholder of an answer: connect to its stream, append deltas as text, then swap in the reply.
  function stream(el) {
    var url = el.getAttribute("data-stream");
    el.removeAttribute("data-stream");
    var text = el.querySelector(".stream-text");
    var finished = false;
    var source = new EventSource(url);
    source.addEventListener("delta", function (ev) {
      text.textContent += JSON.parse(ev.data);
      el.classList.add("has-text");
      scrollDown();
    });
    source.addEventListener("reply", function (ev) {
      finished = true;
      replace(el, JSON.parse(ev.data));
      refreshMode();
    });
    source.addEventListener("done", function () { source.close(); });
    source.onerror = function () {
      source.close();
      if (!finished) {
        el.classList.remove("streaming");
        el.classList.add("failed");
        var msg = document.createElement("div");
        msg.className = "part error-part";
        msg.textContent = "The connection was lost before the answer arrived. Send the question again.";
        el.querySelector(".bubble").appendChild(msg);
      }
    };
  }

  function init(root) {
    if (root.id === "mode") { modeShown(root); }
    var nodes = root.querySelectorAll ? root.querySelectorAll("[data-stream]") : [];
    if (root.hasAttribute && root.hasAttribute("data-stream")) { stream(root); }
    for (var i = 0; i < nodes.length; i++) { stream(nodes[i]); }
  }

  document.addEventListener("htmx:load", function (ev) { init(ev.detail.elt); });

  document.addEventListener("htmx:beforeRequest", function (ev) {
    if (isPoll(ev.detail.elt)) { return; }  // a background poll must not hide what a request said
    notice("");
    if (ev.detail.elt.id === "chat-form") {
      var welcome = document.getElementById("welcome");
      if (welcome) { welcome.remove(); }
    }
  });

  document.addEventListener("htmx:afterRequest", function (ev) {
    var n = document.getElementById("notice");
    if (isPoll(ev.detail.elt) && ev.detail.successful && n && n.textContent === UNREACHABLE) {
      notice("");  // the server answers again
    }
    var form = ev.detail.elt;
    if (form.id === "chat-form" && ev.detail.successful) {
      form.reset();
      document.getElementById("message").focus();
    }
  });

  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.detail.target === conversation()) { scrollDown(); }
  });

  function failure(ev) {
    var xhr = ev.detail.xhr;
    if (!xhr || !xhr.status) { notice(UNREACHABLE); return; }
    if (isPoll(ev.detail.elt)) { return; }  // the header keeps what it showed; the next poll tries again
    var body = xhr.responseText || "";
    var said = "";
    try {
      var json = JSON.parse(body);
      said = (json.error && (json.error.message || json.error)) || json.message || "";
    } catch (e) {
      said = new DOMParser().parseFromString(body, "text/html").body.textContent || "";
    }
    notice("Error " + xhr.status + ": " + String(said).trim().slice(0, 300));
  }
  document.addEventListener("htmx:responseError", failure);
  document.addEventListener("htmx:sendError", failure);

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest ? ev.target.closest("[data-suggest]") : null;
    if (!button) { return; }
    var input = document.getElementById("message");
    input.value = button.getAttribute("data-suggest");
    document.getElementById("chat-form").requestSubmit();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var mode = document.getElementById("mode");
    if (mode) { modeShown(mode); }
    scrollDown();
  });
})();
