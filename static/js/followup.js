// Progressive enhancement for the follow-up pages: move focus to an error summary and show
// the re-imaging fields only for a "re-image" decision (protocol visit rows are added by
// app.js).
// Without JavaScript every form still posts and works.
(function () {
  "use strict";

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
    const decision = document.getElementById("decision-form");
    if (decision) {
      toggleReimage(decision);
      decision.addEventListener("change", function () { toggleReimage(decision); });
    }
  });
})();
