/* Tandem agent desk. All text is rendered with textContent (never innerHTML). */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var current = null, socket = null, retry = 0, busy = false;
  var caution = "";  // why resolving the shown card now would leave the customer waiting
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
    loadQueue(); loadSuggestions(); loadReviews(); connect();
    var wanted = location.hash.match(/escalations\/(\w+)/);
    if (wanted) open(wanted[1]);
  }

  /* Queue keys that may be missing (older servers): priority, priority_label, waiting_since,
   * wait_minutes, queue_position, closed_by. Without them the queue keeps the server's order. */
  function since(e) {
    var t = Date.parse(e.waiting_since || e.created_at);
    return isNaN(t) ? Infinity : t;
  }
  function ordered(escalations) {
    var ranked = escalations.some(function (e) { return typeof e.priority === "number"; });
    if (!ranked) return escalations.slice();
    return escalations.map(function (e, i) { return { e: e, i: i }; }).sort(function (a, b) {
      var pa = typeof a.e.priority === "number" ? a.e.priority : -Infinity;
      var pb = typeof b.e.priority === "number" ? b.e.priority : -Infinity;
      if (pa !== pb) return pb - pa;
      return (since(a.e) - since(b.e)) || (a.i - b.i);
    }).map(function (x) { return x.e; });
  }
  function waitText(e) {
    if (typeof e.wait_minutes !== "number" || e.queue_position === null) return null;
    return "waiting " + e.wait_minutes + " min";
  }
  function queueFacts(e) {
    var facts = [];
    if (e.priority_label) facts.push(el("span", e.priority_label, "priority priority-" + e.priority_label));
    var wait = waitText(e);
    if (wait) facts.push(el("span", wait, "wait"));
    if (e.closed_by === "customer") facts.push(el("span", "Closed by the customer", "closed"));
    return facts;
  }
  window.TandemDesk = { ordered: ordered, waitText: waitText };

  function loadQueue() {
    return api("/api/desk/escalations").then(function (body) {
      var list = $("queue"); clear(list);
      $("queue-count").textContent = "(" + body.escalations.length + ")";
      ordered(body.escalations).forEach(function (e) {
        var li = el("li"), b = el("button");
        b.type = "button"; b.dataset.id = e.id;
        if (current === e.id) b.setAttribute("aria-current", "true");
        queueFacts(e).forEach(function (n) { b.appendChild(n); });
        b.appendChild(el("strong", e.goal));
        b.appendChild(el("br"));
        (e.reason_labels || []).forEach(function (r) { b.appendChild(el("span", r, "tag")); });
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
              .then(function (done) {
                /* 409: a second click, or another admin first: say what became of it */
                $("suggestions-note").textContent = done.error ? done.error.message : "";
                loadSuggestions();
              })
              .catch(function (e) {  /* gone, or the ingest failed: say so, show what is left */
                $("suggestions-note").textContent = e.message;
                loadSuggestions();
              });
          });
          li.appendChild(b);
        });
        list.appendChild(li);
      });
    });
  }

  /* Answer review: a random sample of the bot's answers, each graded right or wrong. */
  function loadReviews() {
    return api("/api/desk/reviews?limit=3").then(function (body) {
      var list = $("reviews"); clear(list);
      if (!body.answers.length) list.appendChild(el("li", "Nothing to review.", "empty"));
      body.answers.forEach(function (a) {
        var li = el("li"); li.dataset.id = a.id;
        li.appendChild(el("strong", a.question));
        li.appendChild(el("p", "Answered with: " + a.title + " (confidence " + a.confidence + ")"));
        var shown = el("details"); shown.appendChild(el("summary", "The answer"));
        shown.appendChild(el("p", a.answer)); li.appendChild(shown);
        var pick = el("select"); pick.setAttribute("aria-label", "The right article, if wrong");
        var none = el("option", "Wrong: the right article is…"); none.value = ""; pick.appendChild(none);
        (a.choices || []).forEach(function (c) {
          var o = el("option", c.title); o.value = c.id; pick.appendChild(o);
        });
        var failed = el("p", "", "error"); failed.setAttribute("role", "alert"); failed.hidden = true;
        var buttons = [true, false].map(function (right) {
          var b = el("button", right ? "Right" : "Wrong"); b.type = "button";
          b.addEventListener("click", function () {
            buttons.forEach(function (other) { other.disabled = true; });  /* one review each */
            var body = { right: right };
            if (!right && pick.value) body.article_id = pick.value;
            api("/api/desk/reviews/" + a.id, { method: "POST", body: JSON.stringify(body) })
              .then(function (answer) {
                /* 409: another agent (or an earlier click) graded it first; theirs holds */
                $("reviews-note").textContent = answer.error ? answer.error.message +
                  ": the first review holds." : "";
                li.remove(); if (!$("reviews").children.length) loadReviews();
              })
              .catch(function (e) {
                failed.textContent = e.message; failed.hidden = false;
                buttons.forEach(function (other) { other.disabled = false; });
              });
          });
          li.appendChild(b);
          return b;
        });
        li.appendChild(pick);
        li.appendChild(failed);
        list.appendChild(li);
      });
    }).catch(function (e) {
      var list = $("reviews"); clear(list);
      list.appendChild(el("li", "Could not draw answers: " + e.message, "error"));
    });
  }

  function open(id) {
    current = id;
    location.hash = "#/escalations/" + id;
    return api("/api/desk/escalations/" + id).then(render).then(loadQueue);
  }

  /* The draft box is the agent's: a draft the server pushes never replaces what the agent is
   * typing or has edited; a link offers it instead. ``fresh`` (another card, or the agent's own
   * send or regenerate) puts the server's draft in the box. */
  var loaded = { id: null, draft: "", offered: null };
  function renderDraft(card, fresh) {
    var box = $("draft");
    var same = loaded.id === card.id;
    var agentsText = same && (document.activeElement === box || box.value !== loaded.draft);
    if (fresh || !same || !agentsText) {
      box.value = card.draft;
      loaded = { id: card.id, draft: card.draft, offered: null };
    } else if (card.draft !== loaded.draft && card.draft !== box.value) {
      loaded.offered = card.draft;
    } else if (card.draft === box.value) {
      loaded = { id: card.id, draft: card.draft, offered: null };
    }
    $("draft-notice").hidden = loaded.offered === null;
  }
  function useNewDraft() {
    if (loaded.offered === null) return;
    $("draft").value = loaded.offered;
    loaded.draft = loaded.offered; loaded.offered = null;
    $("draft-notice").hidden = true;
    $("draft").focus();
  }

  function cardFacts(card) {
    var parts = [];
    if (card.priority_label) parts.push("Priority: " + card.priority_label);
    var wait = waitText(card);
    if (wait) parts.push(wait + (typeof card.queue_position === "number" ? " (#" + card.queue_position + " in the queue)" : ""));
    if (card.closed_by === "customer") parts.push("Closed by the customer");
    return parts;
  }

  function render(card, fresh) {
    $("card").hidden = false;
    caution = card.resolve_caution || "";
    $("card").dataset.version = card.draft_version;
    $("card-title").textContent = card.summary.goal;
    $("card-state").textContent = "Customer: " + (card.customer || "anonymous") + " via " +
      card.channel + " · State: " + card.state + (card.holder ? " (held by " + card.holder + ")" : "");
    var facts = $("card-queue"); clear(facts);
    cardFacts(card).forEach(function (text) {
      var cls = text === "Closed by the customer" ? "closed" :
        text.indexOf("Priority: ") === 0 ? "priority priority-" + card.priority_label : "wait";
      facts.appendChild(el("span", text, cls));
    });
    facts.hidden = !facts.firstChild;
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
    renderDraft(card, fresh);
    var actions = $("card-actions"); clear(actions);
    card.actions.forEach(function (name) {
      var b = el("button", LABELS[name] || name, name === "approve" ? "primary" : "");
      b.type = "button"; b.dataset.action = name;
      b.addEventListener("click", function () { act(name); });
      actions.appendChild(b);
    });
    var history = $("card-history"); clear(history);
    card.history.forEach(function (h) { history.appendChild(historyItem(h)); });
    olderLink(card.id, card.history, card.history_count);
  }

  function historyItem(h) {
    return el("li", new Date(h.at).toLocaleTimeString() + " · " + h.actor + " (" +
      h.channel + "): " + h.action + (h.to ? " → " + h.to : ""));
  }

  /* The card carries the newest history entries (each with its index n) and the count;
   * "Show older" pages back through the rest. */
  function olderLink(id, shown, count) {
    var button = $("history-older");
    var first = shown.length && typeof shown[0].n === "number" ? shown[0].n : 0;
    button.hidden = !(typeof count === "number" && first > 0);
    button.textContent = "Show older (" + first + " more)";
    button.onclick = function () {
      button.disabled = true;
      api("/api/desk/escalations/" + id + "/history?before=" + first + "&limit=50")
        .then(function (page) {
          if (id !== current) return;
          var history = $("card-history");
          page.history.slice().reverse().forEach(function (h) {
            history.insertBefore(historyItem(h), history.firstChild);
          });
          olderLink(id, page.history.length ? page.history : [{ n: 0 }], page.history_count);
        })
        .catch(function (err) { $("action-result").textContent = err.message; })
        .finally(function () { button.disabled = false; });
    };
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
    var body = { action: name, version: Number($("card").dataset.version) };
    if (name === "resolve" && caution && !window.confirm(caution + "\n\nResolve anyway?")) return;
    if (name === "send" || name === "note") {
      body.text = name === "note" ? window.prompt("Internal note") : $("draft").value;
      if (!body.text) return;
    } else if (name === "approve" && $("draft").value.trim()) {
      body.text = $("draft").value;  // "Send draft" sends the box as the agent left it
    }
    var replacesDraft = name === "approve" || name === "send" || name === "regenerate";
    busy = true;
    var buttons = $("card-actions").querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    api("/api/desk/escalations/" + current + "/actions", { method: "POST", body: JSON.stringify(body) })
      .then(function (result) {
        $("action-result").textContent = result.message;
        render(result.card, replacesDraft && result.outcome === "done");
        return loadQueue().then(loadSuggestions);
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
        api("/api/desk/escalations/" + current).then(function (card) {
          if (card.id === current) render(card);
        });
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
  $("draw-reviews").addEventListener("click", loadReviews);
  $("draft-use").addEventListener("click", useNewDraft);
  $("logout").addEventListener("click", function () {
    api("/api/desk/logout", { method: "POST", body: "{}" }).then(signedOut);
  });
  api("/api/desk/me").then(function (me) { if (me.username) signedIn(me); }).catch(function () {});
})();
