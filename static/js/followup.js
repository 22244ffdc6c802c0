// Progressive enhancement for the follow-up pages: move focus to an error summary, add
// protocol visit rows, and show the re-imaging fields only for a "re-image" decision.
// Without JavaScript every form still posts and works.
(function () {
  "use strict";

  function addProtocolVisit() {
    const total = document.querySelector("[name='visits-TOTAL_FORMS']");
    const template = document.getElementById("protocol-visit-template");
    if (!total || !template) return;
    const index = parseInt(total.value, 10);
    const rows = document.getElementById("protocol-visits");
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    const first = rows.lastElementChild.querySelector("input, select");
    if (first) first.focus();
  }

  function toggleReimage(form) {
    const chosen = form.querySelector("[name='decision']:checked");
    const show = chosen && chosen.value === "reimage";
    ["reimage_kind", "reimage_on"].forEach(function (name) {
      const field = document.getElementById("field-" + name);
      if (field) field.hidden = !show;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    const add = document.getElementById("add-protocol-visit");
    if (add) add.addEventListener("click", addProtocolVisit);
    const decision = document.getElementById("decision-form");
    if (decision) {
      toggleReimage(decision);
      decision.addEventListener("change", function () { toggleReimage(decision); });
    }
  });
})();
