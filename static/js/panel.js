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

  document.addEventListener("DOMContentLoaded", function () {
    setUpCopyButtons(document);
    setUpPrintButtons(document);
    setUpEnablers(document);
    tick();
    setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    setUpCopyButtons(event.target);
    setUpEnablers(event.target);
    tick();
  });
})();
