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

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("case-form");
    const summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    if (!form) return;
    applyEntity(form);
    form.addEventListener("change", function (event) {
      if (event.target.name === "case-lesion_entity") applyEntity(form);
    });
    const add = document.getElementById("add-finding");
    if (add) add.addEventListener("click", function () { addFinding(form); });
    const ceap = form.querySelector("[name='case-ceap']");
    if (ceap && ceap.value && window.htmx) htmx.trigger(ceap, "input");
  });
})();
