// In a partner's iframe: tell the page around it how tall this page is, so the frame fits without a scroll bar.
// Optional: without it the frame keeps the height the partner gave it, and everything still works.
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;

  function postHeight() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    // Only a number leaves the frame; any page may read it, so nothing else is ever sent.
    window.parent.postMessage({type: "petition-embed:height", height: height}, "*");
  }

  document.addEventListener("DOMContentLoaded", postHeight);
  window.addEventListener("load", postHeight);
  document.addEventListener("htmx:afterSettle", postHeight);
  if (window.ResizeObserver) new ResizeObserver(postHeight).observe(document.documentElement);
  // After a swap, bring the outcome (thanks, or the error summary) into focus for screen readers.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.target.querySelector && event.target.querySelector("#thanks, [data-focus-after-swap]");
    if (target) target.focus();
  });
})();
