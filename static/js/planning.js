// Planning pages: print button, stent size lists filtered by the chosen stent (also in a row
// app.js adds), and focus kept on a checklist tick after htmx swaps the item. Without
// JavaScript every form still posts and the pages still work.
(function () {
  "use strict";

  // Stent forms: show only the sizes of the chosen stent (labels start with its name).
  function filterSizes(scope) {
    (scope || document).querySelectorAll("select[data-sizes-for]").forEach(function (sizes) {
      const row = sizes.closest("fieldset") || document;
      const device = row.querySelector("select[name$='-device']");
      if (!device) return;
      const name = device.selectedOptions.length ? device.selectedOptions[0].text : "";
      Array.from(sizes.options).forEach(function (option) {
        option.hidden = option.value !== "" && name !== "" && !option.text.startsWith(name + " ");
      });
      if (sizes.selectedOptions.length && sizes.selectedOptions[0].hidden) sizes.value = "";
    });
  }

  let lastTick = null;

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
    const tick = event.target.closest("button.tick");
    if (tick) lastTick = tick.closest("li") && tick.closest("li").id;
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[name$='-device']")) filterSizes(event.target.closest("fieldset"));
  });

  document.addEventListener("formset:added", function (event) { filterSizes(event.target); });

  document.addEventListener("htmx:afterSwap", function () {
    if (!lastTick) return;
    const item = document.getElementById(lastTick);
    const button = item && item.querySelector("button.tick");
    if (button) button.focus();
  });

  document.addEventListener("DOMContentLoaded", function () {
    const summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    filterSizes(document);
  });
})();
