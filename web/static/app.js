// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // --- copy: rich text (HTML with italics) and plain text together ----------------------------

  function copyPlain(text) {
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

  function copySelection(element) {
    // Copying a selected part of the page gives the clipboard both its HTML and its text.
    var selection = window.getSelection();
    var range = document.createRange();
    range.selectNodeContents(element);
    selection.removeAllRanges();
    selection.addRange(range);
    var ok = document.execCommand("copy");
    selection.removeAllRanges();
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copyRich(element, text) {
    var html = Array.prototype.map.call(element.querySelectorAll(".csl-entry"), function (p) {
      return "<p>" + p.innerHTML + "</p>";
    }).join("\n");
    if (navigator.clipboard && navigator.clipboard.write && window.ClipboardItem && window.isSecureContext) {
      var item = new window.ClipboardItem({
        "text/html": new Blob([html], {type: "text/html"}),
        "text/plain": new Blob([text], {type: "text/plain"})
      });
      return navigator.clipboard.write([item]).catch(function () { return copySelection(element); });
    }
    return copySelection(element).catch(function () { return copyPlain(text); });
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
    var rich = document.getElementById(button.getAttribute("data-copy-html") || "");
    var status = button.nextElementSibling;
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = rich ? copyRich(rich, source.value) : copyPlain(source.value);
      done.then(function () {
        if (status) { status.textContent = rich ? "Copied, with italics." : "Copied."; }
      }, function () {
        source.focus();
        source.select();
        if (status) { status.textContent = "Press Ctrl+C (or Cmd+C) to copy the selected text."; }
      });
    });
  });

  // --- the bibliography basket: its keys live in the /cite address -----------------------------

  var STORE = "kb-basket";

  function stored() {
    try {
      return (window.localStorage.getItem(STORE) || "").split(",").filter(Boolean);
    } catch (e) {
      return [];
    }
  }

  var state = document.getElementById("basket-state");
  if (state) {
    // The basket page's address is the basket: remember it for the add links on other pages.
    try { window.localStorage.setItem(STORE, state.getAttribute("data-keys") || ""); } catch (e) { /* private mode */ }
  }

  var basket = stored();
  var query = function (keys) { return keys.map(encodeURIComponent).join(","); };
  document.querySelectorAll("a.add-to-basket[data-keys]").forEach(function (link) {
    var adding = link.getAttribute("data-keys").split(",").filter(Boolean);
    var missing = adding.filter(function (k) { return basket.indexOf(k) === -1; });
    var base = link.pathname;
    if (!missing.length) {
      link.href = base + "?keys=" + query(basket);
      link.classList.add("in-basket");
      link.firstChild.textContent = adding.length > 1 ? "All in your bibliography" : "In your bibliography";
      return;
    }
    link.href = base + (basket.length ? "?keys=" + query(basket) + "&" : "?") + "add=" + query(missing);
  });
  if (basket.length) {
    document.querySelectorAll("nav a[href='/cite']").forEach(function (link) {
      link.href = "/cite?keys=" + query(basket);
      link.textContent = "Bibliography (" + basket.length + ")";
    });
  }
})();
