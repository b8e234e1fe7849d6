// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  // Filters fold into a disclosure on a phone; on a wide screen they start open beside the results.
  if (window.matchMedia("(min-width: 48.01rem)").matches) {
    document.querySelectorAll("details[data-open-wide]").forEach(function (details) {
      details.open = true;
    });
  }

  document.querySelectorAll("button.copy-button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var status = button.nextElementSibling;
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(source.value).then(function () {
        if (status) { status.textContent = "Copied."; }
      }, function () {
        source.focus();
        source.select();
        if (status) { status.textContent = "Press Ctrl+C (or Cmd+C) to copy the selected text."; }
      });
    });
  });
})();
