/* Shop Assistant chat widget: no dependencies, no build step.
   Embed: <script src="/static/widget.js" data-server="" data-customer-token="..."></script>
   Every piece of server data is rendered with textContent, never as HTML. */
(function () {
  "use strict";
  var script = document.currentScript;
  var server = (script && script.getAttribute("data-server")) || "";
  var token = (script && script.getAttribute("data-customer-token")) || "";
  var log, input, panel, bubble;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function headers(json) {
    var h = {};
    if (json) h["Content-Type"] = "application/json";
    if (token) h.Authorization = "Bearer " + token;
    return h;
  }

  function price(value, currency) {
    if (typeof value !== "number") return "";
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format(value);
    } catch (e) {
      return value.toFixed(2) + " " + (currency || "");
    }
  }

  function safeUrl(url) {
    return typeof url === "string" && /^(https?:\/\/|\/)/i.test(url) ? url : "";
  }

  function productCards(products) {
    var list = el("ul", "sa-cards");
    (products || []).forEach(function (p) {
      var card = el("li", "sa-card");
      var src = safeUrl(p.image_url);
      if (src) {
        var img = el("img");
        img.src = src;
        img.alt = p.title || "product image";
        img.loading = "lazy";
        card.appendChild(img);
      }
      card.appendChild(el("span", "sa-card-title", p.title || p.id));
      card.appendChild(el("span", "sa-card-price", price(p.price, p.currency)));
      if (typeof p.rating === "number") card.appendChild(el("span", "sa-card-meta", "\u2605 " + p.rating.toFixed(1)));
      if (p.in_stock === false) card.appendChild(el("span", "sa-card-meta", "out of stock"));
      list.appendChild(card);
    });
    return list;
  }

  function facts(obj, cls) {
    var dl = el("dl", cls);
    Object.keys(obj || {}).forEach(function (key) {
      var value = obj[key];
      if (value === null || typeof value === "object") return;
      dl.appendChild(el("dt", null, key.replace(/_/g, " ")));
      dl.appendChild(el("dd", null, value));
    });
    return dl;
  }

  function customNode(custom) {
    if (!custom || typeof custom !== "object") return null;
    if (custom.type === "products") return productCards(custom.products);
    if (custom.type === "order_status") return facts(custom.order, "sa-order");
    if (custom.type === "cart") {
      var box = el("div", "sa-cart");
      (custom.items || []).forEach(function (item) {
        box.appendChild(el("div", null, (item.quantity || 1) + " \u00d7 " + (item.title || item.id) + " " + price(item.price, item.currency)));
      });
      if (typeof custom.total === "number") box.appendChild(el("strong", null, "Total " + price(custom.total, custom.currency)));
      return box;
    }
    return null;
  }

  function show(from, message) {
    var row = el("div", "sa-msg sa-" + from);
    if (message.text) row.appendChild(el("p", null, message.text));
    var extra = customNode(message.custom);
    if (extra) row.appendChild(extra);
    if (from === "bot" && message.buttons && message.buttons.length) {
      var replies = el("div", "sa-replies");
      message.buttons.forEach(function (b) {
        var button = el("button", "sa-reply", b.title);
        button.type = "button";
        button.addEventListener("click", function () { send(b.payload || b.title, b.title); });
        replies.appendChild(button);
      });
      row.appendChild(replies);
    }
    if (!row.childNodes.length) return;
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
  }

  function send(message, shown) {
    show("user", { text: shown || message });
    fetch(server + "/api/chat", {
      method: "POST",
      credentials: "same-origin",
      headers: headers(true),
      body: JSON.stringify({ message: message })
    }).then(function (response) {
      return response.json().then(function (data) {
        if (data.messages) data.messages.forEach(function (m) { show("bot", m); });
        else show("bot", { text: data.error || "Something went wrong." });
      });
    }).catch(function () {
      show("bot", { text: "Sorry, I can't reach the assistant right now. Please try again in a minute." });
    });
  }

  function restore() {
    fetch(server + "/api/history", { credentials: "same-origin", headers: headers(false) })
      .then(function (response) { return response.ok ? response.json() : { history: [] }; })
      .then(function (data) { (data.history || []).forEach(function (turn) { show(turn.from, turn); }); })
      .catch(function () {});
  }

  function toggle(open) {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    (open ? input : bubble).focus();
  }

  function build() {
    bubble = el("button", "sa-bubble", "Chat with us");
    bubble.type = "button";
    bubble.setAttribute("aria-controls", "sa-panel");
    bubble.setAttribute("aria-expanded", "false");
    panel = el("section", "sa-panel");
    panel.id = "sa-panel";
    panel.hidden = true;
    panel.setAttribute("aria-label", "Shopping assistant");
    var head = el("div", "sa-head");
    head.appendChild(el("h2", null, "Shopping assistant"));
    var close = el("button", "sa-close", "\u00d7");
    close.type = "button";
    close.setAttribute("aria-label", "Close chat");
    head.appendChild(close);
    log = el("div", "sa-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    var form = el("form", "sa-form");
    var label = el("label", "sa-visually-hidden", "Your message");
    label.htmlFor = "sa-input";
    input = el("input");
    input.id = "sa-input";
    input.type = "text";
    input.maxLength = 2000;
    input.autocomplete = "off";
    input.placeholder = "Ask about products or orders\u2026";
    var submit = el("button", "sa-send", "Send");
    submit.type = "submit";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(submit);
    panel.appendChild(head);
    panel.appendChild(log);
    panel.appendChild(form);
    document.body.appendChild(bubble);
    document.body.appendChild(panel);

    bubble.addEventListener("click", function () { toggle(panel.hidden); });
    close.addEventListener("click", function () { toggle(false); });
    panel.addEventListener("keydown", function (event) { if (event.key === "Escape") toggle(false); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      input.value = "";
      send(text);
    });
    restore();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", build);
  else build();
})();
