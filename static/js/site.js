// Small progressive enhancements; every feature works without this file.
(function () {
  "use strict";

  function enhanceCopyButtons(root) {
    root.querySelectorAll("[data-copy-button]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var input = button.parentElement.querySelector("[data-copy]");
        navigator.clipboard.writeText(input.value).then(function () {
          button.textContent = button.dataset.copied || "✓";
        });
      });
    });
  }

  // After a form region is swapped, move the focus to its outcome (thanks, or the error summary) for screen readers.
  // Field-by-field checks swap in wrappers without this marker, so typing is never interrupted.
  function focusThanks(event) {
    var thanks = event.target.querySelector && event.target.querySelector("#thanks, [data-focus-after-swap]");
    if (thanks) thanks.focus();
  }

  function closeMessages(event) {
    if (event.target.matches("[data-dismiss]")) event.target.closest(".notice").remove();
  }

  document.addEventListener("DOMContentLoaded", function () { enhanceCopyButtons(document); });
  document.addEventListener("htmx:afterSwap", function (event) {
    enhanceCopyButtons(event.target);
    focusThanks(event);
  });
  document.addEventListener("click", closeMessages);
})();
