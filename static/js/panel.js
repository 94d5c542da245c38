// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="element-id" hidden>. Without JavaScript
  // they stay hidden and the text itself is selectable.
  function setUpCopyButtons(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      if (button.dataset.ready) return;
      button.dataset.ready = "1";
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copy);
        var text = source ? source.textContent.trim() : "";
        var label = button.textContent;
        var done = function () {
          button.textContent = "Copiado!";
          setTimeout(function () { button.textContent = label; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done);
        } else {
          var range = document.createRange();
          range.selectNodeContents(source);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          document.execCommand("copy");
          done();
        }
      });
    });
  }

  // Countdowns: <span data-expires-at="ISO time">seconds</span>.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-expires-at]").forEach(function (el) {
      var left = Math.max(0, Math.round((Date.parse(el.dataset.expiresAt) - now) / 1000));
      el.textContent = String(left);
    });
  }

  // Print buttons: <button data-print hidden>; without JavaScript the
  // browser's own print command does the same.
  function setUpPrintButtons(root) {
    root.querySelectorAll("button[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  // A field that only counts while a checkbox is on:
  // <input type="checkbox" data-enables="field-id">. The field is disabled
  // while the box is off; without JavaScript it stays editable and the
  // server ignores it when the box is off.
  function setUpEnablers(root) {
    root.querySelectorAll("input[type=checkbox][data-enables]").forEach(function (box) {
      var field = document.getElementById(box.dataset.enables);
      if (!field || box.dataset.ready) return;
      box.dataset.ready = "1";
      var sync = function () { field.disabled = !box.checked; };
      box.addEventListener("change", sync);
      sync();
    });
  }

  // Menus: <details class="menu"><summary>…</summary><ul>links</ul></details>.
  // The summary opens it (Enter or Space, as any <details>); then the arrow
  // keys move between its links, Escape closes it and gives the focus back
  // to the summary, and a click outside closes it. Without JavaScript it is
  // a plain <details>.
  function setUpMenus(root) {
    root.querySelectorAll("details.menu").forEach(function (menu) {
      if (menu.dataset.ready) return;
      menu.dataset.ready = "1";
      var summary = menu.querySelector("summary");
      summary.setAttribute("aria-haspopup", "menu");
      var sync = function () {
        summary.setAttribute("aria-expanded", menu.open ? "true" : "false");
      };
      sync();
      menu.addEventListener("toggle", function () {
        sync();
        var first = menu.querySelector("ul a, ul button");
        if (menu.open && first && document.activeElement === summary) first.focus();
      });
      menu.addEventListener("keydown", function (event) {
        var items = Array.prototype.slice.call(menu.querySelectorAll("ul a, ul button"));
        var at = items.indexOf(document.activeElement);
        if (event.key === "Escape" && menu.open) {
          event.preventDefault();
          menu.open = false;
          summary.focus();
        } else if (menu.open && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
          event.preventDefault();
          var step = event.key === "ArrowDown" ? 1 : -1;
          var next = at === -1 ? (step === 1 ? 0 : items.length - 1) : (at + step + items.length) % items.length;
          if (items[next]) items[next].focus();
        } else if (menu.open && (event.key === "Home" || event.key === "End")) {
          event.preventDefault();
          var edge = event.key === "Home" ? items[0] : items[items.length - 1];
          if (edge) edge.focus();
        }
      });
    });
  }
  // A link to a closed <details> (the API reference's index) opens it.
  function openLinkedDetails() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (target && target.tagName === "DETAILS") target.open = true;
  }
  window.addEventListener("hashchange", openLinkedDetails);

  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    setUpCopyButtons(document);
    setUpPrintButtons(document);
    setUpEnablers(document);
    setUpMenus(document);
    openLinkedDetails();
    tick();
    setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    setUpCopyButtons(event.target);
    setUpEnablers(event.target);
    setUpMenus(event.target);
    tick();
  });
})();
