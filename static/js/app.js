// Progressive enhancement for the case form: show only the sections of the chosen lesion
// entity, add segment-finding rows, and move focus to the error summary. Without
// JavaScript every section stays visible and the form still works.
//
// On every page: what htmx swaps in without a page load is announced once through the one
// polite live region of base.html (#announcer), as WCAG 4.1.3 asks. New content says what
// to announce: an element with data-announce (its value, or else its text); a target with
// data-announce-when-idle (the live CEAP reading) is read once the user stops typing, not at
// every keystroke. A swapped-in form refused without an error summary moves focus to its
// first invalid field, whose message is tied to it.
(function () {
  "use strict";

  const IDLE_MS = 1000;
  let idleTimer = null;
  let idleRegion = null;
  let idleSaid = "";

  function announce(text) {
    const region = document.getElementById("announcer");
    if (!region || !text) return;
    region.textContent = "";
    // Emptied first so that the same words, said again for a new result, are announced again.
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function textOf(el) {
    return (el.dataset.announce || el.textContent).replace(/\s+/g, " ").trim();
  }

  function announceWhenIdle(region) {
    idleRegion = region;
    window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(function () {
      idleTimer = null;
      const text = textOf(idleRegion);
      if (text !== idleSaid) announce(text);
      idleSaid = text;
    }, IDLE_MS);
  }

  function markAnnounced(root) {
    root.querySelectorAll("[data-announce]").forEach(function (el) { el.dataset.announced = "true"; });
  }

  document.addEventListener("DOMContentLoaded", function () { markAnnounced(document); });

  document.addEventListener("input", function () {
    if (idleTimer) announceWhenIdle(idleRegion);
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.detail.target;
    const idle = target && target.closest ? target.closest("[data-announce-when-idle]") : null;
    if (idle) announceWhenIdle(idle);
    const fresh = Array.from(document.querySelectorAll("[data-announce]:not([data-announced])"));
    markAnnounced(document);
    if (fresh.length) announce(textOf(fresh[fresh.length - 1]));
    // An outerHTML swap replaced the target: the new element has its id.
    const scope = target && (target.isConnected ? target : target.id && document.getElementById(target.id));
    if (scope && !scope.querySelector(".error-summary")) {
      const invalid = scope.querySelector("[aria-invalid=true]");
      if (invalid) invalid.focus();
    }
  });

  function applyEntity(form) {
    const select = form.querySelector("[name='case-lesion_entity']");
    if (!select) return;
    const entity = select.value;
    form.querySelectorAll("[data-entities]").forEach(function (el) {
      const show = !entity || el.dataset.entities.split(" ").includes(entity);
      el.hidden = !show;
    });
  }

  // Formsets on every page: a button with data-add-row="<prefix>" adds a row made from
  // <template id="<prefix>-template"> to #<prefix>-rows, counts it in <prefix>-TOTAL_FORMS,
  // moves the focus into it and tells the page's own script ("formset:added" on the row).
  function addRow(prefix) {
    const total = document.querySelector("[name='" + prefix + "-TOTAL_FORMS']");
    const template = document.getElementById(prefix + "-template");
    const rows = document.getElementById(prefix + "-rows");
    if (!total || !template || !rows) return;
    const index = parseInt(total.value, 10);
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    const row = rows.lastElementChild;
    const first = row.querySelector("select, input, textarea");
    if (first) first.focus();
    row.dispatchEvent(new CustomEvent("formset:added", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    const add = event.target.closest ? event.target.closest("[data-add-row]") : null;
    if (add) addRow(add.dataset.addRow);
  });

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
    const ceap = form.querySelector("[name='case-ceap']");
    if (ceap && ceap.value && window.htmx) htmx.trigger(ceap, "input");
  });
})();
