// Behaviour every page shares, from a static file so that the Content-Security-Policy can
// refuse inline scripts and event handlers (config/settings/base.py CONTENT_SECURITY_POLICY).
(function () {
  "use strict";

  // data-confirm="Reset {identity}?" on a form (asked on submit) or a button (asked on click).
  // {name} is replaced by the value of the form's field of that name; data-confirm-if="field"
  // asks only when that checkbox is ticked; data-confirm-unless="field=value" skips the question.
  function question(el, form) {
    return el.dataset.confirm.replace(/\{(\w+)\}/g, function (all, name) {
      var field = form && form.elements[name];
      return field ? field.value : all;
    });
  }
  function needed(el, form) {
    if (el.dataset.confirmIf) {
      var box = form && form.elements[el.dataset.confirmIf];
      if (!box || !box.checked) return false;
    }
    if (el.dataset.confirmUnless) {
      var parts = el.dataset.confirmUnless.split("="), field = form && form.elements[parts[0]];
      if (field && field.value === parts[1]) return false;
    }
    return true;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm], input[type=submit][data-confirm]");
    if (!button) return;
    var form = button.form;
    if (needed(button, form) && !window.confirm(question(button, form))) event.preventDefault();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && needed(form, form) && !window.confirm(question(form, form))) {
      event.preventDefault();
    }
  });

  // data-reload-after="10000": the page refreshes itself (a running campaign).
  document.querySelectorAll("[data-reload-after]").forEach(function (el) {
    setTimeout(function () { location.reload(); }, parseInt(el.dataset.reloadAfter, 10));
  });

  // "Start on N" carries the idTag typed next to it into the JSON payload.
  document.querySelectorAll("form input[data-payload-field]").forEach(function (input) {
    input.form.addEventListener("submit", function () {
      var hidden = input.form.querySelector("input[name=payload]");
      var payload = JSON.parse(hidden.value); payload.idTag = input.value; hidden.value = JSON.stringify(payload);
    });
  });

  // The display-message composer: HTML is previewed in a sandboxed frame (no scripts),
  // everything else as plain text.
  var content = document.getElementById("msg-content"), format = document.getElementById("msg-format");
  var text = document.getElementById("msg-preview"), html = document.getElementById("msg-preview-html");
  if (content && format && text && html) {
    var update = function () {
      var isHtml = format.value === "HTML";
      html.style.display = isHtml ? "block" : "none";
      text.style.display = isHtml ? "none" : "block";
      if (isHtml) { html.srcdoc = content.value; } else { text.textContent = format.value === "URI" ? "QR / link: " + content.value : content.value; }
    };
    content.addEventListener("input", update); format.addEventListener("change", update); update();
  }
})();
