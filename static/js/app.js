// Progressive enhancement for the case form: show only the sections of the chosen lesion
// entity, add segment-finding rows, and move focus to the error summary. Without
// JavaScript every section stays visible and the form still works.
(function () {
  "use strict";

  function applyEntity(form) {
    const select = form.querySelector("[name='case-lesion_entity']");
    if (!select) return;
    const entity = select.value;
    form.querySelectorAll("[data-entities]").forEach(function (el) {
      const show = !entity || el.dataset.entities.split(" ").includes(entity);
      el.hidden = !show;
    });
  }

  function addFinding(form) {
    const total = form.querySelector("[name='findings-TOTAL_FORMS']");
    const template = document.getElementById("finding-template");
    const index = parseInt(total.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    const rows = document.getElementById("finding-rows");
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const first = rows.lastElementChild.querySelector("select, input");
    if (first) first.focus();
  }

  // Pregnancy is a relative contraindication to thrombolysis: while pregnancy is "Yes" the
  // checklist item "pregnancy or lactation" is ticked and cannot be unticked (the server adds
  // it anyway). Going back to "No" unticks it only if this script ticked it.
  function applyPregnancy(form) {
    const select = form.querySelector("[name='case-pregnancy']");
    const tick = form.querySelector("[data-pregnancy-tick]");
    if (!select || !tick) return;
    const pregnant = select.value === "true";
    if (pregnant && !tick.checked) {
      tick.checked = true;
      tick.dataset.tickedByPregnancy = "true";
    } else if (!pregnant && tick.dataset.tickedByPregnancy === "true") {
      tick.checked = false;
      delete tick.dataset.tickedByPregnancy;
    }
    if (pregnant) tick.setAttribute("aria-disabled", "true");
    else tick.removeAttribute("aria-disabled");
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("case-form");
    const summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    if (!form) return;
    applyEntity(form);
    applyPregnancy(form);
    form.addEventListener("change", function (event) {
      if (event.target.name === "case-lesion_entity") applyEntity(form);
      if (event.target.name === "case-pregnancy") applyPregnancy(form);
    });
    form.addEventListener("click", function (event) {
      const tick = event.target.closest ? event.target.closest("[data-pregnancy-tick]") : null;
      if (tick && tick.getAttribute("aria-disabled") === "true") event.preventDefault();
    });
    const add = document.getElementById("add-finding");
    if (add) add.addEventListener("click", function () { addFinding(form); });
    const ceap = form.querySelector("[name='case-ceap']");
    if (ceap && ceap.value && window.htmx) htmx.trigger(ceap, "input");
  });
})();
