// Records what a screen reader would announce, for tests/e2e/a11y.py: each change of a live
// region's text (polite or assertive) and each alert inserted into the page. A live region
// inserted whole is not announced by screen readers, so it is not recorded either.
(() => {
  "use strict";
  if (window.__announcements) return;
  window.__announcements = [];
  const LIVE = "[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log]";
  const observer = new MutationObserver((records) => {
    const regions = new Set();
    const inserted = new Set();
    records.forEach((record) => {
      record.addedNodes.forEach((node) => {
        if (node.nodeType !== 1) return;
        inserted.add(node);
        if (node.matches("[role=alert]")) regions.add(node);
        node.querySelectorAll("[role=alert]").forEach((alert) => regions.add(alert));
      });
      const target = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      const region = target && target.closest(LIVE);
      if (region && !inserted.has(region)) regions.add(region);
    });
    regions.forEach((region) => {
      const text = region.textContent.trim().replace(/\s+/g, " ");
      if (text) window.__announcements.push(text);
    });
  });
  const options = { subtree: true, childList: true, characterData: true };
  if (document.documentElement) observer.observe(document.documentElement, options);
  else document.addEventListener("DOMContentLoaded", () => observer.observe(document, options));
})();
