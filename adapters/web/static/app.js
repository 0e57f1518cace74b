// avibot chat page: stream answers over Server-Sent Events and keep the view tidy and accessible.
// No inline handlers and no eval, so a strict Content-Security-Policy works.
(function () {
  "use strict";

  var DRAFT_KEY = "avibot-draft";
  var STALE = "This page is out of date";
  var UNREACHABLE = "The server cannot be reached.";
  var LONG_CELL = 48;  // characters: a longer cell may wrap at its spaces; a shorter one never wraps
  var STATES = {
    up: "ok", healthy: "ok", ok: "ok", enabled: "ok", active: "ok", green: "ok",
    down: "bad", unhealthy: "bad", failed: "bad", error: "bad", unavailable: "bad", red: "bad",
    disabled: "warn", degraded: "warn", initializing: "warn", partially_up: "warn", unknown: "warn",
    resources: "warn", partitioned: "warn", yellow: "warn"
  };

  function conversation() { return document.getElementById("conversation"); }
  function input() { return document.getElementById("message"); }

  // -- scrolling: follow the newest text, but show a long answer from its start ----------------------

  function nearBottom() {
    var c = conversation();
    return !c || c.scrollHeight - c.scrollTop - c.clientHeight < 80;
  }

  function scrollDown() {
    var c = conversation();
    if (c) { c.scrollTop = c.scrollHeight; }
  }

  // The answer's top at the top of the view when it is taller than the view, else the end of the page.
  function showAnswer(turn) {
    var c = conversation();
    if (!c || !turn) { scrollDown(); return; }
    if (turn.offsetHeight > c.clientHeight - 24) {
      c.scrollTop = turn.offsetTop - c.offsetTop - 8;
    } else {
      scrollDown();
    }
  }

  // -- what a screen reader hears: each finished answer once, never each streamed piece ---------------

  function squash(text) { return String(text || "").replace(/\s+/g, " ").trim(); }

  function announce(text) {
    var a = document.getElementById("announce");
    if (!a) { return; }
    text = squash(text);
    if (text.length > 400) { text = text.slice(0, 397) + "…"; }
    a.textContent = "";
    window.setTimeout(function () { a.textContent = text; }, 60);
  }

  function summary(turn) {
    var bubble = turn.querySelector(".bubble") || turn;
    var said = [];
    Array.prototype.forEach.call(bubble.children, function (part) {
      var caption = part.querySelector("figcaption");
      var rows = part.querySelectorAll("tbody tr").length;
      if (part.classList.contains("confirm")) {
        var s = part.querySelector(".summary");
        said.push("Confirmation needed: " + (s ? s.textContent : ""));
      } else if (part.querySelector("table") && !part.classList.contains("md")) {
        said.push((caption ? caption.textContent + ": " : "") + "a table of " + rows + " row" + (rows === 1 ? "" : "s"));
      } else {
        said.push(part.textContent);
      }
    });
    return "avibot: " + said.join(". ");
  }

  function notice(text, reload) {
    var n = document.getElementById("notice");
    if (!n) { return; }
    n.textContent = text;
    if (text && reload) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-small";
      b.textContent = "Reload";
      b.addEventListener("click", function () { saveDraft(); window.location.reload(); });
      n.appendChild(document.createTextNode(" "));
      n.appendChild(b);
    }
    n.hidden = !text;
  }

  // -- the header's mode is live: #mode polls /htmx/mode, and is asked again after every answer (an
  // answer may be the one that found the model gone). When the mode changes, the model picker reloads.
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

  // -- the header's controller (several only): a pick waits in the form's #controller-choice and goes
  // with the next question; the header is asked again after every answer (a question may switch it).
  function controllerChoice() { return document.getElementById("controller-choice"); }

  function controllerShown(el) {
    var choice = controllerChoice();
    var select = el.querySelector("select");
    if (choice && select && choice.value) { select.value = choice.value; }  // a pick not sent yet stays
  }

  document.addEventListener("change", function (ev) {
    if (!ev.target || ev.target.id !== "controller-select") { return; }
    var choice = controllerChoice();
    var shown = document.getElementById("controller");
    if (!choice) { return; }
    var current = shown ? shown.getAttribute("data-current") : "";
    choice.value = ev.target.value === current ? "" : ev.target.value;
  });

  // Background polls (the header's mode, the alert feed) never clear or set the notice.
  function isPoll(elt) { return !!elt && (elt.id === "mode" || elt.hasAttribute("data-poll")); }

  // -- decorations of an answer: copy buttons, cell states, scroll cues, timestamps -------------------

  function copyText(text, button) {
    function done(ok) {
      var label = button.textContent;
      button.textContent = ok ? "Copied" : "Copy failed";
      window.setTimeout(function () { button.textContent = label; }, 1500);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(fallback()); });
    } else {
      done(fallback());
    }
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "sr-only";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
      return ok;
    }
  }

  function tableText(table) {
    return Array.prototype.map.call(table.rows, function (row) {
      return Array.prototype.map.call(row.cells, function (c) { return squash(c.textContent); }).join("\t");
    }).join("\n");
  }

  function copyButton(label, what) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-small copy-btn";
    b.textContent = "Copy";
    b.setAttribute("aria-label", label);
    b.addEventListener("click", function () { copyText(what(), b); });
    var bar = document.createElement("div");
    bar.className = "part-tools";
    bar.appendChild(b);
    return bar;
  }

  function scrollCue(wrap) {
    var hint = wrap.nextElementSibling;
    if (!hint || !hint.classList.contains("scroll-hint")) {
      hint = document.createElement("div");
      hint.className = "scroll-hint";
      hint.setAttribute("aria-hidden", "true");
      hint.textContent = "⇠ scroll sideways for more columns ⇢";
      wrap.parentNode.insertBefore(hint, wrap.nextSibling);
    }
    var wide = wrap.scrollWidth > wrap.clientWidth + 1;
    hint.hidden = !wide;
    wrap.classList.toggle("scrolls", wide);
  }

  var cueObserver = window.ResizeObserver ? new ResizeObserver(function (entries) {
    entries.forEach(function (e) { scrollCue(e.target); });
  }) : null;

  function stamp(turn, when) {
    if (turn.querySelector("time")) { return; }
    // A line under the bubble: the time, then the turn's own meta (its mode) as it was.
    var foot = document.createElement("div");
    foot.className = "turn-foot";
    var meta = turn.querySelector(":scope > .turn-meta");
    turn.insertBefore(foot, meta || null);
    var t = document.createElement("time");
    t.className = "turn-time";
    t.dateTime = when.toISOString();
    t.title = when.toISOString().replace("T", " ").slice(0, 19) + " UTC";
    t.textContent = when.toISOString().slice(11, 16) + " UTC";  // as the page's other times (expiry)
    foot.appendChild(t);
    if (meta) { foot.appendChild(meta); }
  }

  // Each element once (a flag on it): htmx:load may hand over a subtree that holds decorated ones.
  function once(el, flag) {
    if (el.hasAttribute(flag)) { return false; }
    el.setAttribute(flag, "");
    return true;
  }

  function each(root, selector, fn) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) { found.unshift(root); }
    found.forEach(function (el) { if (!el.closest(".streaming")) { fn(el); } });
  }

  function decorate(root, fresh) {
    each(root, ".turn", function (turn) {
      if (once(turn, "data-seen") && fresh) { stamp(turn, new Date()); }
    });
    each(root, ".turn td", function (td) {
      if (!once(td, "data-seen")) { return; }
      var text = squash(td.textContent);
      if (text.length > LONG_CELL) { td.classList.add("long"); }
      var state = STATES[text.toLowerCase()];
      if (state) { td.classList.add("state", "state-" + state); }
    });
    each(root, ".turn .bubble pre:not(.diff)", function (pre) {
      if (!once(pre, "data-seen")) { return; }
      pre.parentNode.insertBefore(copyButton("Copy code", function () { return pre.textContent; }), pre);
    });
    each(root, ".turn .table-wrap", function (wrap) {
      if (!once(wrap, "data-seen")) { return; }
      var table = wrap.querySelector("table");
      if (table) {
        var title = wrap.getAttribute("aria-label") || "table";
        wrap.parentNode.insertBefore(copyButton("Copy " + title, function () { return tableText(table); }), wrap);
      }
      scrollCue(wrap);
      if (cueObserver) { cueObserver.observe(wrap); }
    });
  }

  // -- an answer's stream ------------------------------------------------------------------------------

  function replace(el, html) {
    var before = el.previousElementSibling;
    var parent = el.parentNode;
    if (window.htmx && htmx.swap) {
      htmx.swap(el, html, { swapStyle: "outerHTML" });
    } else {
      el.outerHTML = html;
    }
    var turn = before ? before.nextElementSibling : parent && parent.firstElementChild;
    if (turn && turn.classList.contains("turn")) {
      decorate(turn, true);
      showAnswer(turn);
      announce(summary(turn));
    } else {
      scrollDown();
    }
  }

  // The placeholder of an answer: connect to its stream, append deltas as text, then swap in the reply.
  function stream(el) {
    var url = el.getAttribute("data-stream");
    el.removeAttribute("data-stream");
    var text = el.querySelector(".stream-text");
    var finished = false;
    var source = new EventSource(url);
    el.avibotStop = function () {
      if (finished) { return; }
      finished = true;
      source.close();
      el.classList.remove("streaming");
      el.classList.add("stopped");
      var meta = el.querySelector(".turn-meta");
      if (meta) { meta.textContent = text.textContent ? "stopped" : "stopped before the answer arrived"; }
      decorate(el, true);
      announce("Stopped.");
      var box = input();
      if (box) { box.focus(); }
    };
    source.addEventListener("delta", function (ev) {
      var follow = nearBottom();
      text.textContent += JSON.parse(ev.data);
      el.classList.add("has-text");
      if (follow) { scrollDown(); }
    });
    source.addEventListener("reply", function (ev) {
      if (finished) { return; }
      finished = true;
      replace(el, JSON.parse(ev.data));
      refreshMode();
    });
    source.addEventListener("done", function () { source.close(); });
    source.onerror = function () {
      source.close();
      if (!finished) {
        finished = true;
        el.classList.remove("streaming");
        el.classList.add("failed");
        var stop = el.querySelector("[data-stop]");
        if (stop) { stop.remove(); }
        var msg = document.createElement("div");
        msg.className = "part error-part";
        msg.textContent = "The connection was lost before the answer arrived. Send the question again.";
        el.querySelector(".bubble").appendChild(msg);
        announce(msg.textContent);
      }
    };
  }

  function init(root, fresh) {
    if (root.id === "mode") { modeShown(root); }
    if (root.id === "controller") { controllerShown(root); }
    if (root.classList && root.classList.contains("outcome")) {
      // A decision's outcome replaced the card whose button had the focus: the focus goes to what happened.
      root.focus();
      announce(root.textContent);
    }
    var nodes = root.querySelectorAll ? root.querySelectorAll("[data-stream]") : [];
    if (root.hasAttribute && root.hasAttribute("data-stream")) { stream(root); }
    for (var i = 0; i < nodes.length; i++) { stream(nodes[i]); }
    if (root.querySelectorAll) { decorate(root, fresh); }
  }

  // -- the composer: Enter sends, Shift+Enter is a new line; what was typed survives a reload ----------

  function saveDraft() {
    var box = input();
    try {
      if (box && box.value) { sessionStorage.setItem(DRAFT_KEY, box.value); } else { sessionStorage.removeItem(DRAFT_KEY); }
    } catch (e) { /* storage may be off */ }
  }

  function grow() {
    var box = input();
    if (!box) { return; }
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight + 2, Math.round(window.innerHeight * 0.4)) + "px";
  }

  document.addEventListener("keydown", function (ev) {
    var box = input();
    if (ev.target !== box || ev.key !== "Enter" || ev.shiftKey || ev.isComposing || ev.keyCode === 229) { return; }
    ev.preventDefault();
    document.getElementById("chat-form").requestSubmit();
  });

  document.addEventListener("input", function (ev) {
    if (ev.target === input()) { grow(); saveDraft(); }
  });

  // -- htmx events --------------------------------------------------------------------------------------

  var loaded = false;
  document.addEventListener("htmx:load", function (ev) { init(ev.detail.elt, loaded); });

  document.addEventListener("htmx:beforeRequest", function (ev) {
    if (isPoll(ev.detail.elt)) { return; }  // a background poll must not hide what a request said
    notice("");
    if (ev.detail.elt.id === "chat-form" || ev.detail.elt.hasAttribute("data-alert-action")) {
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
    if (form.hasAttribute("data-alert-action") && ev.detail.successful) {
      // An alert's Investigate answered as a turn: show it, and say it as a streamed answer is said.
      var turns = conversation().querySelectorAll(".turn.assistant");
      var turn = turns[turns.length - 1];
      if (turn) { showAnswer(turn); announce(summary(turn)); }
    }
    if (form.id === "chat-form" && ev.detail.successful) {
      form.reset();
      var choice = controllerChoice();
      if (choice) { choice.value = ""; }  // the pick went with this question; the header follows it
      saveDraft();
      grow();
      input().focus();
    }
  });

  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.detail.target === conversation()) { scrollDown(); }
  });

  // A refusal keeps what was typed (the form is reset only after a success). A stale page (its CSRF
  // token no longer matches the session) says so and offers a reload; the draft survives it.
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
    said = String(said).trim().slice(0, 300);
    if (xhr.status === 403 && said.indexOf(STALE) === 0) {
      saveDraft();
      notice(said, true);
      return;
    }
    notice("Error " + xhr.status + ": " + said);
  }
  document.addEventListener("htmx:responseError", failure);
  document.addEventListener("htmx:sendError", failure);

  document.addEventListener("click", function (ev) {
    var target = ev.target.closest ? ev.target : null;
    if (!target) { return; }
    var stop = target.closest("[data-stop]");
    if (stop) {
      var turn = stop.closest(".turn");
      if (turn && turn.avibotStop) { turn.avibotStop(); }
      return;
    }
    var prefill = target.closest("[data-prefill]");
    if (prefill) {  // an alert's "Ask about it": the question is the person's to finish and send
      var box = input();
      box.value = prefill.getAttribute("data-prefill");
      grow();
      saveDraft();
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
      return;
    }
    var button = target.closest("[data-suggest]");
    if (!button) { return; }
    input().value = button.getAttribute("data-suggest");
    document.getElementById("chat-form").requestSubmit();
  });

  // Deferred: the page is parsed. What is already there is history (no timestamps, it has none).
  function start() {
    var mode = document.getElementById("mode");
    if (mode) { modeShown(mode); }
    decorate(document.body, false);
    var box = input();
    try {
      var draft = sessionStorage.getItem(DRAFT_KEY);
      if (box && draft && !box.value) { box.value = draft; }
    } catch (e) { /* storage may be off */ }
    grow();
    scrollDown();
    loaded = true;
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
