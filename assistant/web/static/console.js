// Agent console: queue, transcript, claim, reply, hand back. Vanilla JS, no build step.
// Every text from shoppers, the bot or the store is rendered with textContent, never as HTML.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var $ = function (id) { return document.getElementById(id); };
  var state = { queue: [], me: null, selected: null, handoff: null, shown: new Set(), socket: null, retry: 0 };

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    return node;
  }

  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
    if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    return fetch(path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 401) { window.location.href = "/agent/login"; }
        if (!response.ok) throw new Error(data.error || ("request failed (" + response.status + ")"));
        return data;
      });
    });
  }

  function showError(error) { $("error").textContent = error ? error.message || String(error) : ""; }

  function channelName(channel) { return channel === "gateway" ? "web chat" : channel; }

  function minutes(seconds) {
    var m = Math.floor(seconds / 60);
    return m < 1 ? "under a minute" : m + " min";
  }

  function renderQueue() {
    var list = $("queue");
    list.replaceChildren();
    $("queue-empty").hidden = state.queue.length > 0;
    state.queue.forEach(function (item) {
      var li = el("li", null, { "data-testid": "queue-item", "data-sender": item.sender, "data-status": item.status, tabindex: "0" });
      var title = item.status === "waiting" ? "Waiting " + minutes(item.waiting_seconds) : "With " + (item.claimed_by || "an agent");
      li.appendChild(el("strong", title));
      li.appendChild(el("div", "Reason: " + (item.reason || "asked for a person") + " · " + channelName(item.channel)));
      if (item.customer_id) li.appendChild(el("div", "Customer " + item.customer_id));
      if (item.after_hours) li.appendChild(el("div", item.left_message ? "Left a message: " + item.left_message : "After hours"));
      if (!item.readable) { li.classList.add("ac-taken"); li.appendChild(el("div", "Taken by " + item.claimed_by)); }
      if (item.id === state.selected) li.setAttribute("aria-current", "true");
      li.addEventListener("click", function () { if (item.readable) openConversation(item.id); });
      li.addEventListener("keydown", function (event) { if (event.key === "Enter" && item.readable) openConversation(item.id); });
      list.appendChild(li);
    });
  }

  function refreshQueue() {
    return api("GET", "/agent/api/queue").then(function (data) {
      state.queue = data.queue; state.me = data.me; renderQueue();
      var more = (data.total || 0) - data.queue.length;
      $("queue-title").textContent = more > 0 ? "Conversations (" + data.queue.length + " of " + data.total + ")" : "Conversations";
    }).catch(showError);
  }

  function appendMessage(message) {
    if (state.shown.has(message.id)) return;
    state.shown.add(message.id);
    var li = el("li", null, { "data-testid": "transcript-message", "data-from": message.from, "data-id": message.id });
    var who = { user: "Shopper", bot: "Bot", agent: message.agent_name || "Agent", system: "" }[message.from];
    if (who) li.appendChild(el("span", who, { class: "ac-who" }));
    var text = message.text;
    if (!text && message.custom && message.custom.type) text = "[" + message.custom.type + "]";
    li.appendChild(el("span", text || ""));
    (message.buttons || []).forEach(function (button) { li.appendChild(el("span", " [" + button.title + "]")); });
    $("transcript").appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  function renderProfile(profile) {
    var box = $("profile");
    box.replaceChildren();
    if (profile.customer) {
      var c = profile.customer;
      box.appendChild(el("p", (c.name || c.id) + (c.email ? " · " + c.email : "")));
      box.appendChild(el("p", "Personalization consent: " + (c.personalization_consent === null ? "not asked" : c.personalization_consent ? "yes" : "no") +
        " · marketing: " + (c.marketing_consent ? "yes" : "no")));
      var orders = el("ul");
      profile.orders.forEach(function (o) {
        orders.appendChild(el("li", o.order_number + " · " + o.status + " · " + o.placed_at.slice(0, 10) + (o.total !== null ? " · " + o.total + " " + (o.currency || "") : "")));
      });
      box.appendChild(el("h3", "Recent orders"));
      box.appendChild(profile.orders.length ? orders : el("p", "No orders."));
    } else {
      box.appendChild(el("p", "Guest shopper (not signed in to the store)."));
    }
    box.appendChild(el("h3", "Cart"));
    var cart = el("ul");
    profile.cart.forEach(function (line) { cart.appendChild(el("li", line.quantity + " × " + line.title)); });
    box.appendChild(profile.cart.length ? cart : el("p", "Empty."));
  }

  function renderCsat(ratings) {
    var box = $("csat");
    box.replaceChildren();
    if (!ratings || !ratings.length) { box.appendChild(el("p", "No rating yet.", { "class": "ac-muted" })); return; }
    var list = el("ul");
    ratings.forEach(function (r) {
      list.appendChild(el("li", r.rating + "/5 · " + r.at.slice(0, 16).replace("T", " ") + (r.comment ? " · " + r.comment : "")));
    });
    box.appendChild(list);
  }

  function renderResults(products) {
    var list = $("last-results");
    list.replaceChildren();
    (products || []).forEach(function (p) {
      list.appendChild(el("li", p.title + (p.price !== null && p.price !== undefined ? " · " + p.price + " " + (p.currency || "") : "") + " [" + p.id + "]"));
    });
  }

  function mayWrite(handoff) {
    return handoff.status === "active" && state.me && (handoff.claimed_by === state.me.username || state.me.role === "admin");
  }

  function renderActions() {
    var h = state.handoff;
    $("claim").hidden = !h || h.status !== "waiting";
    var writing = !!h && mayWrite(h);
    $("hand-back").hidden = !writing; $("close").hidden = !writing; $("reply").hidden = !writing;
  }

  function openConversation(id) {
    showError(null);
    return api("GET", "/agent/api/conversations/" + id).then(function (data) {
      state.selected = id; state.handoff = data.handoff; state.shown = new Set();
      $("transcript").replaceChildren();
      $("conversation-title").textContent = "Conversation " + data.handoff.id;
      $("conversation-meta").textContent = channelName(data.handoff.channel) + " · " + (data.handoff.reason || "asked for a person") +
        (data.handoff.left_message ? " · left a message: " + data.handoff.left_message : "");
      data.transcript.forEach(appendMessage);
      renderProfile(data.profile); renderResults(data.last_results); renderCsat(data.csat); renderActions(); renderQueue();
    }).catch(showError);
  }

  function act(path) {
    showError(null);
    return api("POST", "/agent/api/conversations/" + state.selected + "/" + path)
      .then(function () { return refreshQueue(); })
      .then(function () { return openConversation(state.selected); })
      .catch(showError);
  }

  $("claim").addEventListener("click", function () { act("claim").then(function () { $("agent-input").focus(); }); });
  $("hand-back").addEventListener("click", function () { act("hand-back"); });
  $("close").addEventListener("click", function () { act("close"); });

  var typingTimer = null;
  $("agent-input").addEventListener("input", function () {
    sendFrame({ type: "typing", conversation: state.selected, on: true });
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { sendFrame({ type: "typing", conversation: state.selected, on: false }); }, 2000);
  });
  $("agent-input").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("reply").requestSubmit(); }
  });
  $("reply").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("agent-input"), text = input.value.trim();
    if (!text) return;
    api("POST", "/agent/api/conversations/" + state.selected + "/messages", { text: text }).then(function (data) {
      input.value = ""; appendMessage(data.message); sendFrame({ type: "typing", conversation: state.selected, on: false });
    }).catch(showError);
  });

  function sendFrame(frame) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/agent/ws");
    state.socket = socket;
    socket.onopen = function () {
      state.retry = 0; $("live-status").textContent = "live";
      // Catch up on anything that happened while we were disconnected.
      refreshQueue(); if (state.selected !== null) openConversation(state.selected);
    };
    socket.onmessage = function (event) {
      var frame; try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "queue") refreshQueue();
      else if (frame.type === "message" && frame.conversation === state.selected) appendMessage(frame.message);
      else if (frame.type === "typing" && frame.conversation === state.selected) $("typing").hidden = !frame.on;
    };
    socket.onclose = function () {
      $("live-status").textContent = "reconnecting…";
      state.retry = Math.min(state.retry + 1, 5);
      setTimeout(connect, 500 * state.retry);
    };
  }

  setInterval(function () { state.queue.forEach(function (q) { q.waiting_seconds += 15; }); renderQueue(); }, 15000);
  refreshQueue();
  connect();
})();
