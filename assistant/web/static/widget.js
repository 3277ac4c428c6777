/* Shop Assistant chat widget: no dependencies, no build step.
   Embed on any page with one tag:
     <script src="https://assistant.example/static/widget.js" async
             data-server="https://assistant.example" data-customer-token="SIGNED-BY-THE-STORE"></script>
   data-server defaults to where widget.js came from; the token is optional (guests).
   Every piece of server data is rendered with textContent, never as HTML. */
(function () {
  "use strict";
  if (window.__shopAssistant) return; // two tags on one page: one bubble
  window.__shopAssistant = true;
  var script = document.currentScript;
  var attr = function (name) { return (script && script.getAttribute(name)) || ""; };
  var server = (attr("data-server") || (script && script.src ? new URL(script.src, location.href).origin : "")).replace(/\/+$/, "");
  var token = attr("data-customer-token");
  var BACKOFF_MAX = 30000;

  var ui = {};              // DOM nodes
  var seen = {};            // message ids already shown: history, replies and pushes overlap
  var lastId = null;        // newest server message id, for /api/history?after=
  var labels = {};          // payload -> what the shopper clicked, to show clicks readably after reload
  var listing = [];         // products of the latest result list: what "ordinal" payloads point into
  var outbox = [];          // messages not yet accepted by the server, sent in order
  var sending = false, retryDelay = 1000, retryTimer = null, reconcileLater = false;
  var socket = null, socketDelay = 1000, pingTimer = null, tokenRejected = false;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null && text !== "") node.textContent = String(text);
    return node;
  }

  function testid(node, id) { node.setAttribute("data-testid", id); return node; }

  function button(cls, text, id, onClick) {
    var b = testid(el("button", cls, text), id);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function headers(json) {
    var h = { Accept: "application/json" };
    if (json) h["Content-Type"] = "application/json";
    if (token) h.Authorization = "Bearer " + token;
    return h;
  }

  function api(path, options) {
    options = options || {};
    options.credentials = "include"; // the session cookie, also when embedded on the store's own domain
    options.headers = headers(!!options.body);
    return fetch(server + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 401) rejectToken(data.error);
        return { status: response.status, data: data };
      });
    });
  }

  function price(value, currency) {
    if (typeof value !== "number") return "";
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format(value);
    } catch (e) {
      return value.toFixed(2) + " " + (currency || "");
    }
  }

  function day(iso) {
    var d = iso ? new Date(iso) : null;
    return d && !isNaN(d) ? d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" }) : "";
  }

  function safeUrl(url) {
    return typeof url === "string" && /^(https?:\/\/|\/[^/])/i.test(url) ? url : "";
  }

  function words(text) { return String(text || "").replace(/_/g, " "); }

  /* ---- rich content ---- */

  function productCards(custom) {
    var products = custom.products || [];
    var isList = !custom.detail; // a detail view does not replace the list "the second one" refers to
    if (isList) listing = products;
    var list = el("ul", "sa-cards");
    list.setAttribute("aria-label", products.length + (products.length === 1 ? " product" : " products"));
    products.forEach(function (p, index) {
      var title = p.title || p.id || "Product";
      var card = testid(el("li", "sa-card"), "product-card");
      card.setAttribute("data-product-id", p.id || "");
      var src = safeUrl(p.image_url);
      if (src) {
        var img = el("img");
        img.alt = title;
        img.loading = "lazy";
        img.addEventListener("error", function () { img.classList.add("sa-img-missing"); }); // the alt text stays
        img.src = src;
        card.appendChild(img);
      }
      card.appendChild(el("span", "sa-card-title", title));
      card.appendChild(el("span", "sa-card-price", price(p.price, p.currency)));
      if (typeof p.rating === "number") {
        var stars = el("span", "sa-card-meta", "\u2605 " + p.rating.toFixed(1));
        stars.setAttribute("aria-label", "rated " + p.rating.toFixed(1) + " out of 5");
        card.appendChild(stars);
      }
      if (p.in_stock != null) card.appendChild(el("span", "sa-card-meta sa-stock-" + !!p.in_stock, p.in_stock ? "In stock" : "Out of stock"));
      if (p.reason) card.appendChild(el("span", "sa-card-meta", p.reason));
      var ordinal = '{"ordinal":"' + (index + 1) + '"}';
      var add = button("sa-card-button", "Add to cart", "add-to-cart", function () {
        if (isList && listing === products) say("/add_to_cart" + ordinal, "Add to cart: " + title, true);
        else say("add " + title + " to my cart");
      });
      add.setAttribute("aria-label", "Add " + title + " to cart");
      if (p.in_stock === false) add.disabled = true;
      var like = button("sa-card-button sa-secondary", "More like this", "more-like-this", function () {
        // In the latest list the ordinal names the product; elsewhere open it first, then ask.
        if (isList && listing === products) say("/recommend" + ordinal, "More like " + title, true);
        else { say("tell me about " + title); say("something similar"); }
      });
      like.setAttribute("aria-label", "More like " + title);
      if (isList) {
        labels["/add_to_cart" + ordinal] = "Add to cart: " + title;
        labels["/recommend" + ordinal] = "More like " + title;
      }
      card.appendChild(add);
      card.appendChild(like);
      list.appendChild(card);
    });
    return list;
  }

  function fact(dl, name, value) {
    if (value == null || value === "") return;
    dl.appendChild(el("dt", null, name));
    dl.appendChild(el("dd", null, value));
  }

  function orderCard(order) {
    order = order || {};
    var card = testid(el("div", "sa-order"), "order-card");
    card.appendChild(el("strong", "sa-order-title", "Order " + (order.order_number || "")));
    card.appendChild(el("span", "sa-badge", words(order.status)));
    var dl = el("dl");
    fact(dl, "Placed", day(order.placed_at));
    fact(dl, "Total", price(order.total, order.currency));
    var ship = order.shipment || {};
    fact(dl, "Carrier", ship.carrier);
    fact(dl, "Tracking", ship.tracking_number);
    fact(dl, "Shipping", words(ship.status));
    fact(dl, ship.delivered_at ? "Delivered" : "Expected", day(ship.delivered_at || ship.estimated_delivery));
    fact(dl, "Delay", ship.delay_reason);
    if (order.refund) fact(dl, "Refund", words(order.refund.status) + " " + price(order.refund.amount, order.currency));
    card.appendChild(dl);
    var items = el("ul", "sa-lines");
    (order.items || []).forEach(function (item) {
      items.appendChild(el("li", null, (item.quantity || 1) + " \u00d7 " + (item.title || item.product_id)));
    });
    if (items.childNodes.length) card.appendChild(items);
    return card;
  }

  // The store's own page can follow the chat cart (its cart icon, its mini-cart):
  // window.addEventListener("shop-assistant:cart", function (e) { e.detail.items ... }).
  function announceCart(custom) {
    var items = (custom.items || []).map(function (item) {
      return { product_id: item.product_id, variant_id: item.variant_id || null, quantity: item.quantity,
               title: item.title, unit_price: item.unit_price, currency: item.currency };
    });
    var detail = { items: items, total: custom.total, currency: custom.currency, checkout_url: custom.checkout_url || null };
    try {
      window.dispatchEvent(new CustomEvent("shop-assistant:cart", { detail: detail }));
    } catch (e) { /* a page without CustomEvent: the chat still works */ }
  }

  function isWebUrl(url) { return typeof url === "string" && /^https?:\/\//i.test(url); }

  function cartSummary(custom) {
    announceCart(custom);
    if (!custom.items || !custom.items.length) return null; // the text already says it is empty
    var box = testid(el("div", "sa-cart"), "cart-summary");
    var items = el("ul", "sa-lines");
    (custom.items || []).forEach(function (item) {
      var line = (item.quantity || 1) + " \u00d7 " + (item.title || item.product_id) + "  " + price(item.line_total, item.currency);
      items.appendChild(el("li", null, line));
    });
    box.appendChild(items);
    if (typeof custom.total === "number") box.appendChild(el("strong", null, "Total " + price(custom.total, custom.currency)));
    if (isWebUrl(custom.checkout_url)) {
      var checkout = testid(el("a", "sa-checkout", "Checkout"), "checkout");
      checkout.href = custom.checkout_url;
      checkout.target = "_blank";
      checkout.rel = "noopener";
      checkout.setAttribute("aria-label", "Checkout on the store with these items");
      box.appendChild(checkout);
    }
    return box;
  }

  // A side-by-side table: one column per product, one row per attribute (textContent only).
  function comparisonTable(custom) {
    var products = custom.products || [];
    if (!products.length) return null;
    var wrap = testid(el("div", "sa-compare"), "comparison");
    var table = el("table");
    table.appendChild(el("caption", null, "Comparison of " + products.length + " products"));
    var head = el("tr");
    var corner = el("th", null, "Attribute");
    corner.scope = "col";
    head.appendChild(corner);
    products.forEach(function (p) {
      var th = el("th", null, p.title || p.id || "Product");
      th.scope = "col";
      head.appendChild(th);
    });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el("tbody");
    (custom.rows || []).forEach(function (row) {
      var tr = el("tr");
      var th = el("th", null, row.attribute);
      th.scope = "row";
      tr.appendChild(th);
      products.forEach(function (p, index) {
        var value = (row.values || [])[index];
        tr.appendChild(el("td", null, value == null ? "\u2014" : value));
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
    wrap.appendChild(table);
    wrap.setAttribute("aria-label", "comparison table");
    return wrap;
  }

  function customNode(custom) {
    if (!custom || typeof custom !== "object") return null;
    if (custom.type === "products") return productCards(custom);
    if (custom.type === "comparison") return comparisonTable(custom);
    if (custom.type === "order_status") return orderCard(custom.order);
    if (custom.type === "cart") return cartSummary(custom);
    if (custom.type === "data_export" && typeof custom.url === "string" && custom.url.indexOf("/api/me/export/") === 0) {
      var link = el("a", "sa-download", custom.label || "Download my data");
      link.href = server + custom.url;
      link.setAttribute("download", "my-shop-data.json");
      link.setAttribute("aria-label", link.textContent);
      return link;
    }
    return null;
  }

  /* ---- the message log ---- */

  var WHO = { user: "You", bot: "Assistant", agent: "Team member", system: "Notice" };

  function time(message) {
    var when = typeof message.timestamp === "number" ? new Date(message.timestamp * 1000) : new Date();
    var node = el("time", "sa-time", when.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }));
    node.dateTime = when.toISOString();
    return node;
  }

  function announce(text) {
    ui.live.textContent = "";
    setTimeout(function () { ui.live.textContent = text; }, 50); // a change the screen reader notices
  }

  function forgetShown() {
    // "delete my data" erased the conversation on the server: drop it from the page too.
    while (ui.log.firstChild) ui.log.removeChild(ui.log.firstChild);
    seen = {};
    lastId = null;
    labels = {};
    listing = [];
  }

  function render(message, quiet) {
    if (message.custom && message.custom.type === "conversation_erased") { forgetShown(); return; }
    var from = WHO[message.from] ? message.from : "bot";
    if (message.id != null) {
      var id = String(message.id);
      if (seen[id]) return;
      seen[id] = true;
      lastId = id;
    }
    var row = testid(el("div", "sa-msg sa-" + from), "chat-message");
    row.setAttribute("data-from", from);
    if (message.id != null) row.setAttribute("data-id", String(message.id));
    var shown = message.text;
    if (from === "user" && shown && shown.charAt(0) === "/") shown = labels[shown] || "(chose an option)";
    var who = from === "agent" ? (message.agent_name || "Team member") + " \u00b7 team member" : WHO[from];
    var meta = el("div", "sa-meta");
    meta.appendChild(el("span", "sa-who", who));
    meta.appendChild(time(message));
    row.appendChild(meta);
    if (shown) row.appendChild(el("p", "sa-text", shown));
    var extra = customNode(message.custom);
    if (extra) row.appendChild(extra);
    if ((from === "bot" || from === "agent") && message.buttons && message.buttons.length) {
      var replies = el("div", "sa-replies");
      message.buttons.forEach(function (b) {
        var payload = b.payload || b.title;
        labels[payload] = b.title;
        replies.appendChild(button("sa-reply", b.title, "quick-reply", function () { say(payload, b.title, true); }));
      });
      row.appendChild(replies);
    }
    if (!shown && !extra && row.childNodes.length < 3) return;
    ui.log.appendChild(row);
    ui.log.scrollTop = ui.log.scrollHeight;
    if (!quiet && from !== "user") announce(who + ": " + (shown || (extra ? extra.getAttribute("aria-label") || "sent details" : "")));
    return row;
  }

  function notice(text, kind) {
    text = text.charAt(0).toUpperCase() + text.slice(1);
    var row = render({ from: "system", text: text }, true);
    if (row) row.classList.add("sa-local", "sa-" + (kind || "info"));
    announce(text);
  }

  function typing(on, who) {
    ui.typing.hidden = !on;
    ui.typing.textContent = on ? (who || "Assistant") + " is typing\u2026" : "";
  }

  function rejectToken(message) {
    tokenRejected = true;
    ui.status.textContent = "Store login not accepted";
    notice(message || "Your store login is not valid or has expired; reload the page or log in again.", "error");
  }

  /* ---- sending, with an outbox that survives a dropped connection ---- */

  // A button's payload travels as "payload", typed text as "message": the server reads
  // typed text as text even when it starts with "/", and takes a payload only if the bot offered it.
  function say(message, shown, isPayload) {
    var row = render({ from: "user", text: shown || message });
    if (row) row.classList.add("sa-queued");
    outbox.push({ id: messageId(), message: message, row: row, payload: !!isPayload });
    flush();
  }

  // Each message carries an id of its own, and a retry the same id: when the connection drops
  // after the server took a message but before its answer arrived, the retry is answered from
  // the conversation instead of being handled twice (the server's "message_id").
  function messageId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return "w-" + Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function flush() {
    if (sending || !outbox.length) return;
    var item = outbox[0];
    sending = true;
    typing(true);
    var body = item.payload ? { payload: item.message } : { message: item.message };
    body.message_id = item.id;
    api("/api/chat", { method: "POST", body: JSON.stringify(body) })
      .then(function (result) {
        outbox.shift();
        retryDelay = 1000;
        if (item.row) item.row.classList.remove("sa-pending", "sa-queued");
        (result.data.messages || []).forEach(function (m) { render(m); });
        if (!result.data.messages && result.status !== 401) notice(result.data.error || "Something went wrong; please try again.", "error");
      }, function () {
        // Offline or the server is unreachable: keep the message and try again later.
        if (item.row && !item.row.classList.contains("sa-pending")) {
          item.row.classList.add("sa-pending");
          item.row.appendChild(el("span", "sa-pending-note", "Not sent yet; it will be sent when the connection is back."));
        }
        clearTimeout(retryTimer);
        retryTimer = setTimeout(flush, retryDelay);
        retryDelay = Math.min(retryDelay * 2, BACKOFF_MAX);
      })
      .then(function () {
        sending = false;
        typing(false);
        var note = item.row && !item.row.classList.contains("sa-pending") && item.row.querySelector(".sa-pending-note");
        if (note) note.remove();
        if (retryDelay === 1000) flush();
        if (!sending && reconcileLater) { reconcileLater = false; reconcile(); }
      });
  }

  function history() {
    return api("/api/history" + (lastId ? "?after=" + encodeURIComponent(lastId) : ""));
  }

  function restore() {
    return history().then(function (result) {
      (result.data.history || []).forEach(function (m) { render(m, true); }); // old news: not announced
    }, function () {});
  }

  /* Replies to our own posts carry no ids, so after a reconnect or a push the rows drawn since
     the last known id are replaced by the server's transcript after that id: nothing lost
     (missed messages arrive), nothing twice (the server's copy replaces ours). Not while a
     post is in flight: its question is not in the transcript yet. */
  function unconfirmed() {
    return Array.prototype.slice.call(ui.log.querySelectorAll(".sa-msg:not([data-id]):not(.sa-queued):not(.sa-local)"));
  }

  function reconcile() {
    if (sending) { reconcileLater = true; return; }
    var stale = unconfirmed();
    history().then(function (result) {
      if (!result.data.history) return;
      if (sending) { reconcileLater = true; return; }
      var shown = stale.map(function (row) { var p = row.querySelector(".sa-text"); return p && p.textContent; });
      stale.forEach(function (row) { row.remove(); });
      result.data.history.forEach(function (m) { render(m, m.from === "user" || shown.indexOf(m.text) >= 0); });
      ui.log.querySelectorAll(".sa-queued").forEach(function (row) { ui.log.appendChild(row); }); // not sent yet: last
    }, function () {});
  }

  /* ---- live pushes (agent replies): WebSocket with backoff; absent servers are retried quietly ---- */

  function connect() {
    if (!window.WebSocket || tokenRejected) return;
    var url = server ? server.replace(/^http/i, "ws") : location.origin.replace(/^http/i, "ws");
    var ws;
    try { ws = new WebSocket(url + "/api/chat/stream"); } catch (e) { return; }
    var opened = false;
    socket = ws;
    ws.onopen = function () {
      opened = true;
      ui.panel.setAttribute("data-stream", "open");
      socketDelay = 1000;
      ws.send(JSON.stringify(token ? { type: "auth", customer_token: token } : { type: "auth" }));
      pingTimer = setInterval(function () { if (ws.readyState === 1) ws.send('{"type":"ping"}'); }, 25000);
      reconcile(); // whatever arrived while we were away
      flush();
    };
    ws.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type === "message" && data.message) {
        if (unconfirmed().length) reconcile(); else render(data.message);
      }
      else if (data.type === "typing") typing(!!data.on, "Team member");
      else if (data.type === "handoff") status(data);
    };
    ws.onclose = function () {
      clearInterval(pingTimer);
      if (socket !== ws) return;
      ui.panel.setAttribute("data-stream", "closed");
      socket = null;
      // Not there at all (an older server) or dropped: try again later, further apart each time.
      var wait = socketDelay * (0.75 + Math.random() / 2);
      socketDelay = Math.min(socketDelay * 2, opened ? BACKOFF_MAX : 4 * BACKOFF_MAX);
      setTimeout(connect, wait);
    };
  }

  function status(event) {
    var text = {
      waiting: "Waiting for a person from our team" + (event.wait_minutes ? " (about " + event.wait_minutes + " min)" : ""),
      agent_joined: "Chatting with " + (event.agent_name || "a team member"),
      bot_resumed: "Shopping assistant",
      closed: "Shopping assistant"
    }[event.state];
    if (text) ui.status.textContent = text;
  }

  /* ---- the panel ---- */

  function toggle(open) {
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    (open ? ui.input : ui.launcher).focus();
    if (open) ui.log.scrollTop = ui.log.scrollHeight;
  }

  function build() {
    if (!document.querySelector('link[data-sa-widget]')) {
      var css = el("link");
      css.rel = "stylesheet";
      css.href = server + "/static/widget.css";
      css.setAttribute("data-sa-widget", "");
      document.head.appendChild(css);
    }
    var launcher = ui.launcher = button("sa-launcher", "Chat with us", "chat-launcher", function () { toggle(ui.panel.hidden); });
    launcher.setAttribute("aria-controls", "sa-panel");
    launcher.setAttribute("aria-expanded", "false");
    var panel = ui.panel = testid(el("section", "sa-panel"), "chat-panel");
    panel.id = "sa-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-labelledby", "sa-title");
    var head = el("div", "sa-head");
    var title = el("h2", null, "Shopping assistant");
    title.id = "sa-title";
    head.appendChild(title);
    ui.status = el("span", "sa-status", token ? "Signed in" : "Guest");
    head.appendChild(ui.status);
    var close = button("sa-close", "\u00d7", "chat-close", function () { toggle(false); });
    close.setAttribute("aria-label", "Close chat");
    head.appendChild(close);
    ui.log = el("div", "sa-log");
    ui.log.setAttribute("role", "log");
    ui.log.setAttribute("aria-live", "off"); // announced once, as a summary, by the live region
    ui.log.setAttribute("aria-label", "Conversation");
    ui.log.tabIndex = 0;
    ui.typing = testid(el("div", "sa-typing"), "typing-indicator");
    ui.typing.hidden = true;
    ui.live = testid(el("div", "sa-visually-hidden"), "chat-live");
    ui.live.setAttribute("aria-live", "polite");
    ui.live.setAttribute("role", "status");
    var form = el("form", "sa-form");
    var label = el("label", "sa-visually-hidden", "Your message");
    label.htmlFor = "sa-input";
    var input = ui.input = testid(el("input"), "chat-input");
    input.id = "sa-input";
    input.type = "text";
    input.maxLength = 2000;
    input.autocomplete = "off";
    input.placeholder = "Ask about products or orders\u2026";
    var submit = testid(el("button", "sa-send", "Send"), "chat-send");
    submit.type = "submit";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(submit);
    [head, ui.log, ui.typing, ui.live, form].forEach(function (node) { panel.appendChild(node); });
    document.body.appendChild(launcher);
    document.body.appendChild(panel);

    panel.addEventListener("keydown", function (event) { if (event.key === "Escape") toggle(false); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      input.value = "";
      say(text);
    });
    window.addEventListener("online", function () { retryDelay = 1000; flush(); });
    restore().then(connect);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", build);
  else build();
})();
