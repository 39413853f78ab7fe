/* Tandem chat widget. Embed with one tag:
 *   <script src="https://tandem.example/static/widget.js" defer></script>
 * Text is always rendered with textContent: nothing a customer, the bot or an agent writes is
 * parsed as HTML. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = (script && script.dataset.tandemUrl) || new URL(script ? script.src : location.href).origin;
  var KEY = "tandem.conversation";
  var state = { id: null, token: null, last: 0, socket: null, retry: 0, seen: {} };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  var css = el("link", { rel: "stylesheet", href: base + "/static/widget.css" });
  document.head.appendChild(css);
  var root = el("div", { class: "tandem-widget" });
  var launcher = el("button", { type: "button", class: "tandem-launcher", "aria-expanded": "false",
    "aria-controls": "tandem-panel" }, "Chat with us");
  var panel = el("section", { id: "tandem-panel", class: "tandem-panel", role: "dialog",
    "aria-label": "Customer support chat", hidden: "" });
  var header = el("header", { class: "tandem-header" });
  header.appendChild(el("h2", {}, "Support"));
  var status = el("span", { class: "tandem-status", role: "status" }, "");
  header.appendChild(status);
  var log = el("ol", { class: "tandem-log", role: "log", "aria-live": "polite", "aria-label": "Messages" });
  var typing = el("p", { class: "tandem-typing", hidden: "", "aria-live": "polite" }, "Typing…");
  var form = el("form", { class: "tandem-form" });
  var label = el("label", { for: "tandem-input", class: "tandem-visually-hidden" }, "Your message");
  var input = el("textarea", { id: "tandem-input", rows: "2", maxlength: "4000", required: "",
    placeholder: "Type your question…" });
  var send = el("button", { type: "submit" }, "Send");
  var error = el("p", { class: "tandem-error", role: "alert", hidden: "" });
  form.append(label, input, send);
  panel.append(header, log, typing, error, form);
  root.append(panel, launcher);
  document.body.appendChild(root);

  var AUTHORS = { customer: "You", answer: "Assistant", courtesy: "Assistant", agent_message: "Agent" };

  function safeUrl(url) {
    try { var u = new URL(url, location.href); return /^https?:$/.test(u.protocol) ? u.href : null; }
    catch (e) { return null; }
  }

  function show(event) {
    if (event.type === "typing") { typing.hidden = false; return; }
    if (!event.id || state.seen[event.id]) return;
    state.seen[event.id] = true;
    state.last = Math.max(state.last, event.id);
    if (event.type !== "customer") typing.hidden = true;
    var item = el("li", { class: "tandem-msg tandem-" + event.type, "data-type": event.type });
    var who = event.type === "agent_message" && event.author ? event.author : AUTHORS[event.type];
    if (who) item.appendChild(el("span", { class: "tandem-who" }, who));
    item.appendChild(el("p", { class: "tandem-text" }, event.text));
    if (event.sources && event.sources.length) {
      var list = el("ul", { class: "tandem-sources", "aria-label": "Sources" });
      event.sources.forEach(function (s) {
        var li = el("li"), url = s.url && safeUrl(s.url);
        if (url) {
          var a = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, s.title);
          li.appendChild(a);
        } else li.textContent = s.title;
        list.appendChild(li);
      });
      item.appendChild(list);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function api(path, options) {
    options = options || {};
    options.headers = Object.assign({ "Content-Type": "application/json" },
      state.token ? { Authorization: "Bearer " + state.token } : {}, options.headers || {});
    return fetch(base + path, options).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) {
          var failure = new Error((body.error && body.error.message) || r.statusText);
          failure.status = r.status;
          throw failure;
        }
        return body;
      });
    });
  }

  /* Exponential backoff with full jitter: 0.5 s doubling up to 30 s, each wait drawn between
   * half and all of it, so a page (or a thousand pages) never hammers a refusing server. */
  function backoff(attempt) {
    var ceiling = Math.min(30000, 500 * Math.pow(2, attempt));
    return ceiling / 2 + Math.random() * ceiling / 2;
  }

  function connect() {
    var url = base.replace(/^http/, "ws") + "/api/conversations/" + state.id + "/ws?token=" +
      encodeURIComponent(state.token) + "&after=" + state.last;
    var socket = new WebSocket(url);
    state.socket = socket;
    socket.onopen = function () { state.retry = 0; status.textContent = "Connected"; };
    socket.onmessage = function (m) { if (m.data !== "pong") show(JSON.parse(m.data)); };
    socket.onclose = function () {
      status.textContent = "Reconnecting…";
      setTimeout(connect, backoff(state.retry++));
    };
  }

  /* Open (or resume) the conversation. Every failure waits with backoff before the next try;
   * only a conversation the server no longer knows (401, 404) is forgotten. */
  function begin(attempt) {
    attempt = attempt || 0;
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem(KEY) || "null"); } catch (e) { saved = null; }
    var ready = saved ? Promise.resolve(saved) : api("/api/conversations", { method: "POST", body: "{}" })
      .then(function (c) { localStorage.setItem(KEY, JSON.stringify(c)); return c; });
    return ready.then(function (c) {
      state.id = c.id; state.token = c.token;
      return api("/api/conversations/" + c.id + "/messages?after=0");
    }).then(function (h) { status.textContent = ""; h.messages.forEach(show); connect(); })
      .catch(function (failure) {
        if (failure && (failure.status === 401 || failure.status === 404)) {
          localStorage.removeItem(KEY);
        }
        state.id = null; state.token = null;
        status.textContent = "Cannot reach support, retrying…";
        return new Promise(function (resolve) { setTimeout(resolve, backoff(attempt)); })
          .then(function () { return begin(attempt + 1); });
      });
  }

  var started = null;
  launcher.addEventListener("click", function () {
    var open = panel.hidden;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) { started = started || begin(); input.focus(); }
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    send.disabled = true; error.hidden = true;
    (started || (started = begin())).then(function () {
      return api("/api/conversations/" + state.id + "/messages", { method: "POST",
        body: JSON.stringify({ text: text }) });
    }).then(function () { input.value = ""; })
      .catch(function (err) { error.textContent = err.message; error.hidden = false; })
      .finally(function () { send.disabled = false; input.focus(); });
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
})();
