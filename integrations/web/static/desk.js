/* Tandem agent desk. All text is rendered with textContent (never innerHTML). */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var current = null, socket = null, retry = 0, busy = false;
  var LABELS = { approve: "Send draft", send: "Send edited", take_over: "Take over",
    regenerate: "Regenerate", hand_back: "Hand back", resolve: "Resolve", note: "Add note" };

  function el(tag, text, cls) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = text;
    if (cls) n.className = cls;
    return n;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function api(path, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = { "Content-Type": "application/json" };
    return fetch(path, options).then(function (r) {
      return r.json().then(function (body) {
        if (r.status === 401 && path !== "/api/desk/login") { signedOut(); }
        if (!r.ok && r.status !== 409) throw new Error((body.error && body.error.message) || r.statusText);
        return body;
      });
    });
  }

  function signedOut() {
    $("desk").hidden = true; $("login").hidden = false; $("logout").hidden = true;
    $("who").textContent = "";
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
  }

  function signedIn(agent) {
    $("who").textContent = "Signed in as " + agent.name;
    $("login").hidden = true; $("desk").hidden = false; $("logout").hidden = false;
    loadQueue(); loadSuggestions(); connect();
    var wanted = location.hash.match(/escalations\/(\w+)/);
    if (wanted) open(wanted[1]);
  }

  function loadQueue() {
    return api("/api/desk/escalations").then(function (body) {
      var list = $("queue"); clear(list);
      $("queue-count").textContent = "(" + body.escalations.length + ")";
      body.escalations.forEach(function (e) {
        var li = el("li"), b = el("button");
        b.type = "button"; b.dataset.id = e.id;
        if (current === e.id) b.setAttribute("aria-current", "true");
        b.appendChild(el("strong", e.goal));
        b.appendChild(el("br"));
        e.reason_labels.forEach(function (r) { b.appendChild(el("span", r, "tag")); });
        b.appendChild(el("small", (e.holder ? "held by " + e.holder + " · " : "") +
          new Date(e.created_at).toLocaleTimeString()));
        b.addEventListener("click", function () { open(e.id); });
        li.appendChild(b); list.appendChild(li);
      });
    });
  }

  function loadSuggestions() {
    return api("/api/desk/suggestions").then(function (body) {
      var list = $("suggestions"); clear(list);
      body.suggestions.forEach(function (s) {
        var li = el("li");
        li.appendChild(el("strong", s.question));
        if (s.count > 1) { li.appendChild(el("span", " (taught " + s.count + " times)")); }
        li.appendChild(el("p", s.kind === "variant" ? "Question variant of: " + s.article_id :
          s.kind === "not_in_kb" ? "Not in the knowledge base (a gap)" : s.answer));
        ["accept", "reject"].forEach(function (verdict) {
          var b = el("button", verdict === "accept" ? "Accept into KB" : "Reject"); b.type = "button";
          b.addEventListener("click", function () {
            api("/api/desk/suggestions/" + s.id + "/" + verdict, { method: "POST", body: "{}" })
              .then(loadSuggestions);
          });
          li.appendChild(b);
        });
        list.appendChild(li);
      });
    });
  }

  function open(id) {
    current = id;
    location.hash = "#/escalations/" + id;
    return api("/api/desk/escalations/" + id).then(render).then(loadQueue);
  }

  function render(card) {
    var keepDraft = document.activeElement === $("draft") && $("card").dataset.version == card.draft_version;
    $("card").hidden = false;
    $("card").dataset.version = card.draft_version;
    $("card-title").textContent = card.summary.goal;
    $("card-state").textContent = "Customer: " + (card.customer || "anonymous") + " via " +
      card.channel + " · State: " + card.state + (card.holder ? " (held by " + card.holder + ")" : "");
    var reasons = $("card-reasons"); clear(reasons);
    card.reason_labels.forEach(function (r) { reasons.appendChild(el("li", r, "tag")); });
    var summary = $("card-summary"); clear(summary);
    [["Intent", card.summary.intent], ["Goal", card.summary.goal],
     ["Sentiment", card.summary.sentiment + " (" + card.summary.trend + ")"],
     ["Key facts", card.summary.key_facts.join(", ") || "none"],
     ["Bot answered", card.summary.bot_answers.join(", ") || "nothing yet"]].forEach(function (row) {
      summary.appendChild(el("dt", row[0])); summary.appendChild(el("dd", row[1]));
    });
    var transcript = $("card-transcript"); clear(transcript);
    card.transcript.forEach(function (m) {
      var li = el("li", null, m.kind + (m.internal ? " internal" : ""));
      li.appendChild(el("span", m.who, "who"));
      li.appendChild(el("span", m.text));
      transcript.appendChild(li);
    });
    transcript.scrollTop = transcript.scrollHeight;
    var articles = $("card-articles"); clear(articles);
    card.articles.forEach(function (a) {
      var li = el("li"); li.appendChild(el("strong", a.title)); li.appendChild(el("p", a.passage));
      articles.appendChild(li);
    });
    renderTag(card);
    if (!keepDraft) $("draft").value = card.draft;
    var actions = $("card-actions"); clear(actions);
    card.actions.forEach(function (name) {
      var b = el("button", LABELS[name] || name, name === "approve" ? "primary" : "");
      b.type = "button"; b.dataset.action = name;
      b.addEventListener("click", function () { act(name); });
      actions.appendChild(b);
    });
    var history = $("card-history"); clear(history);
    card.history.forEach(function (h) {
      history.appendChild(el("li", new Date(h.at).toLocaleTimeString() + " · " + h.actor + " (" +
        h.channel + "): " + h.action + (h.to ? " → " + h.to : "")));
    });
  }

  function renderTag(card) {
    var select = $("tag-article");
    if (document.activeElement === select && select.dataset.card === card.id) return;
    select.dataset.card = card.id; clear(select);
    card.tag_choices.forEach(function (c) {
      var option = el("option", c.title); option.value = c.id; select.appendChild(option);
    });
    var none = el("option", "Not in the knowledge base"); none.value = ""; select.appendChild(none);
    select.value = card.suggested_article || "";
  }

  function tag() {
    if (busy || !current) return;
    var article = $("tag-article").value;
    busy = true; $("tag-button").disabled = true;
    api("/api/desk/escalations/" + current + "/tag",
        { method: "POST", body: JSON.stringify({ article_id: article || null }) })
      .then(function (result) {
        $("action-result").textContent = result.applied ? "Tagged: the question now belongs to that article." :
          "Tagged: waiting for an admin to accept it.";
        render(result.card); return loadSuggestions();
      })
      .catch(function (err) { $("action-result").textContent = err.message; })
      .finally(function () { busy = false; $("tag-button").disabled = false; });
  }

  function act(name) {
    if (busy || !current) return;
    var body = { action: name };
    if (name === "send" || name === "note") {
      body.text = name === "note" ? window.prompt("Internal note") : $("draft").value;
      if (!body.text) return;
    }
    busy = true;
    var buttons = $("card-actions").querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    api("/api/desk/escalations/" + current + "/actions", { method: "POST", body: JSON.stringify(body) })
      .then(function (result) {
        $("action-result").textContent = result.message;
        render(result.card); return loadQueue().then(loadSuggestions);
      })
      .catch(function (err) { $("action-result").textContent = err.message; })
      .finally(function () { busy = false; buttons.forEach(function (b) { b.disabled = false; }); });
  }

  function connect() {
    socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/api/desk/ws");
    socket.onopen = function () { retry = 0; };
    socket.onmessage = function (m) {
      if (m.data === "pong") return;
      var event = JSON.parse(m.data);
      if (event.type === "hello") return;
      loadQueue(); loadSuggestions();
      if (current && event.escalation_id === current && !busy) {
        api("/api/desk/escalations/" + current).then(render);
      }
    };
    socket.onclose = function () { setTimeout(connect, Math.min(30000, 500 * Math.pow(2, retry++))); };
  }

  $("login").addEventListener("submit", function (e) {
    e.preventDefault();
    $("login-error").hidden = true;
    api("/api/desk/login", { method: "POST", body: JSON.stringify({
      username: $("username").value, password: $("password").value }) })
      .then(function (body) { signedIn(body.agent); })
      .catch(function (err) { $("login-error").textContent = err.message; $("login-error").hidden = false; });
  });
  $("tag-button").addEventListener("click", tag);
  $("logout").addEventListener("click", function () {
    api("/api/desk/logout", { method: "POST", body: "{}" }).then(signedOut);
  });
  api("/api/desk/me").then(function (me) { if (me.username) signedIn(me); }).catch(function () {});
})();
