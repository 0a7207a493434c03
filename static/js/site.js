// Kitstreet's page-wide behaviour, shared by every template through base.html.
// Everything here is progressive: without JavaScript the menu is simply always open, tables scroll
// through the CSS fallback, and dangerous buttons submit without asking.
(function () {
  "use strict";

  // Times are printed in the reader's zone (config/timezones.py): tell the server which one (from
  // the next page on; until then every time says it is in the market's zone).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var sent = (document.cookie.split("; ").find(function (c) { return c.indexOf("tz=") === 0; }) || "").slice(3);
    if (zone && decodeURIComponent(sent) !== zone) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* an old browser keeps the market's zone */ }

  // Phones: the header's links collapse behind a Menu button.
  var header = document.querySelector(".site-header");
  var toggle = header && header.querySelector(".nav-toggle");
  if (toggle) {
    header.classList.add("js-nav");
    toggle.addEventListener("click", function () {
      var open = header.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Every table scrolls inside its own box, so a wide table never widens the page. Pages written
  // by anyone inherit this; a template may also wrap a table in <div class="table-wrap"> itself.
  function wrapTables(root) {
    root.querySelectorAll("main table").forEach(function (table) {
      var parent = table.parentElement;
      if (parent.classList.contains("table-wrap") || table.closest(".no-table-wrap")) return;
      var wrap = document.createElement("div");
      wrap.className = "table-wrap";
      wrap.setAttribute("tabindex", "0");  // keyboard users can scroll it too
      if (table.getAttribute("aria-label")) wrap.setAttribute("aria-label", table.getAttribute("aria-label"));
      parent.insertBefore(wrap, table);
      wrap.appendChild(table);
    });
  }
  wrapTables(document);

  // Card tables (CSS: table.cards): each cell learns its column's heading, shown above it on phones.
  document.querySelectorAll("main table.cards").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (heads[i] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[i]);
      });
    });
  });
  window.kitstreetWrapTables = wrapTables;  // for pages that insert tables later

  // Dangerous steps (cancel, ship, confirm, place an order...) ask first: a form or button with
  // data-confirm="question" only submits once the user agrees.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
})();
