// The console's progressive enhancement (docs/console.md): every page works without it.
// A "Copy secret" button is shown next to a secret and copies it to the clipboard.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(source.value).then(function () {
      button.textContent = "Copied";
    });
  });
});
