// Measurements of the page as the browser shows it, for tests/e2e/a11y.py.
window.__a11y = (() => {
  "use strict";

  // ---- colours: WCAG 2.1 relative luminance and contrast -------------------------------------
  const parse = (value) => {
    const m = value.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a: a === undefined ? 1 : a };
  };
  const blend = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const luminance = (c) => {
    const channel = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  };
  const contrast = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  // The colour an element is painted on: its own and its ancestors' backgrounds, down to the
  // first opaque one (white beneath all).
  const backdrop = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour && colour.a > 0) layers.push(colour);
      if (colour && colour.a === 1) break;
    }
    const white = { r: 255, g: 255, b: 255, a: 1 };
    return layers.reverse().reduce((bottom, top) => blend(top, bottom), white);
  };
  const describe = (el) => {
    const label = el.getAttribute("aria-label")
      || (el.labels && el.labels[0] && el.labels[0].textContent)
      || el.textContent || el.getAttribute("name") || "";
    const id = el.id ? `#${el.id}` : "";
    return `${el.tagName.toLowerCase()}${id} "${label.trim().replace(/\s+/g, " ").slice(0, 50)}"`;
  };

  // ---- reflow -------------------------------------------------------------------------------
  const scrolls = (el) => ["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(el).overflowX);

  function overflow() {
    const width = document.documentElement.clientWidth;
    const wide = [];
    document.querySelectorAll("body *").forEach((el) => {
      const box = el.getBoundingClientRect();
      if (box.right <= width + 1 || getComputedStyle(el).position === "fixed") return;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (scrolls(p)) return;
      }
      const classes = typeof el.className === "string" && el.className.trim()
        ? `.${el.className.trim().split(/\s+/).join(".")}` : "";
      wide.push(`${describe(el)}${classes} right=${Math.round(box.right)}`);
    });
    return { excess: document.documentElement.scrollWidth - width, culprits: wide.slice(0, 6) };
  }

  // ---- non-text contrast --------------------------------------------------------------------
  const FIELDS = "input:not([type=hidden], [type=submit], [type=button], [type=file], [type=range],"
    + " [type=color], [disabled]), select:not([disabled]), textarea:not([disabled])";

  function weakFieldBorders(min) {
    const weak = [];
    document.querySelectorAll(FIELDS).forEach((el) => {
      if (el === document.activeElement || !el.offsetParent) return;
      const style = getComputedStyle(el);
      if (parseFloat(style.borderTopWidth) === 0 || style.borderTopStyle === "none") {
        weak.push(`${describe(el)}: no border`);
        return;
      }
      const under = backdrop(el.parentElement);
      const ratio = contrast(blend(parse(style.borderTopColor), under), under);
      if (ratio < min) weak.push(`${describe(el)}: ${ratio.toFixed(2)}:1`);
    });
    return weak;
  }

  function focusIndicator(min) {
    const el = document.activeElement;
    if (!el || el === document.body) return { element: null };
    const style = getComputedStyle(el);
    const colour = parse(style.outlineColor);
    const drawn = style.outlineStyle !== "none" && colour;
    // An outline with a non-negative offset lies outside the element, on its parent's backdrop.
    const under = parseFloat(style.outlineOffset) >= 0 ? backdrop(el.parentElement) : backdrop(el);
    const ratio = drawn ? contrast(blend(colour, under), under) : 0;
    return {
      element: describe(el),
      visible: Boolean(drawn) && parseFloat(style.outlineWidth) >= 2 && ratio >= min,
      detail: `outline ${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}, `
        + `${ratio.toFixed(2)}:1`,
      key: el.dataset.a11yKey || null,
    };
  }

  // ---- keyboard -----------------------------------------------------------------------------
  const FOCUSABLE = "a[href], button, input:not([type=hidden]), select, textarea, summary,"
    + " [tabindex]:not([tabindex='-1'])";

  // A radio group is one Tab stop (its checked radio, or its first); arrows move within it.
  const radioStop = (el) => {
    const group = [...document.getElementsByName(el.name)].filter((r) => r.form === el.form);
    return el === (group.find((r) => r.checked) || group[0]);
  };

  // Marks the controls of `selector` a person can reach, and puts the starting point of
  // sequential focus before the first element of the page, where a person starts.
  function markFocusable(selector) {
    document.querySelector(selector).querySelectorAll(FOCUSABLE).forEach((el, i) => {
      const hidden = !el.getClientRects().length || el.disabled || el.closest("[hidden], [inert]")
        || getComputedStyle(el).visibility === "hidden" || (el.type === "radio" && !radioStop(el));
      if (!hidden) el.dataset.a11yKey = String(i);
    });
    const start = document.createElement("span");
    start.id = "a11y-start";
    start.tabIndex = -1;
    document.body.prepend(start);
    start.focus();
    window.scrollTo(0, 0);
    return [...document.querySelectorAll(`${selector} [data-a11y-key]`)].map((e) => e.dataset.a11yKey);
  }

  // Focuses one control of each kind on the page (tag, type, role, classes and its parent's
  // classes) and returns those without a visible focus indicator.
  function focusIndicators(min) {
    const kinds = new Set();
    const missing = [];
    document.querySelectorAll(FOCUSABLE).forEach((el) => {
      if (!el.getClientRects().length || el.disabled || el.closest("[hidden], [inert]")) return;
      const kind = [el.tagName, el.type, el.getAttribute("role"), el.className,
        el.parentElement.className].join("|");
      if (kinds.has(kind)) return;
      kinds.add(kind);
      el.focus();
      if (document.activeElement !== el) return;
      const state = focusIndicator(min);
      if (!state.visible) missing.push(`${state.element}: ${state.detail}`);
    });
    if (document.activeElement) document.activeElement.blur();
    return missing;
  }

  function unreached(selector, reached) {
    document.getElementById("a11y-start").remove();
    return [...document.querySelectorAll(`${selector} [data-a11y-key]`)]
      .filter((e) => !reached.includes(e.dataset.a11yKey))
      .map(describe);
  }

  // ---- errors -------------------------------------------------------------------------------
  function unlinkedErrors() {
    const problems = [];
    const near = (a, b) => {
      const block = a.closest(".field, td, .override-only, .feedback");
      return block && block.contains(b);
    };
    document.querySelectorAll("[aria-invalid=true]").forEach((control) => {
      // A group of radios or boxes is described through its fieldset.
      const group = ["radio", "checkbox"].includes(control.type) && control.closest("fieldset");
      const field = group && group.hasAttribute("aria-describedby") ? group : control;
      const name = control.name;
      const ids = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
      const described = ids.map((id) => document.getElementById(id));
      ids.forEach((id, i) => {
        if (!described[i]) problems.push(`${name}: no element #${id}`);
      });
      const message = described.find((el) => el && el.classList.contains("field-error"));
      if (!message) {
        problems.push(`${name}: no error message among ${ids.join(" ") || "(none)"}`);
      } else if (!near(control, message)) {
        problems.push(`${name}: message #${message.id} is not next to the field`);
      } else if (!message.textContent.trim()) {
        problems.push(`${name}: empty message`);
      }
    });
    const pointed = new Set();
    document.querySelectorAll("[aria-describedby]").forEach((el) => {
      el.getAttribute("aria-describedby").split(/\s+/).forEach((id) => pointed.add(id));
    });
    // A field's message sits in the field's block or table cell; messages about a whole form
    // or row are listed in the summary instead.
    document.querySelectorAll(".field .field-error, td .field-error").forEach((message) => {
      if (!message.offsetParent) return;
      if (!message.id || !pointed.has(message.id)) {
        problems.push(`message "${message.textContent.trim()}" is tied to no field`);
      }
    });
    document.querySelectorAll(".error-summary a[href^='#']").forEach((link) => {
      const href = link.getAttribute("href");
      const target = document.getElementById(href.slice(1));
      if (!target) problems.push(`summary link ${href} leads nowhere`);
      else if (!target.matches("input, select, textarea, fieldset, [tabindex]")) {
        problems.push(`summary link ${href} leads to a ${target.tagName.toLowerCase()}, not a field`);
      }
    });
    const alerts = [...document.querySelectorAll("[role=alert]")].filter(
      (alert) => alert.matches(".error-summary, .field-error") || alert.querySelector(".field-error"),
    );
    if (alerts.length > 1) {
      problems.push(`${alerts.length} alerts: the errors are announced more than once`);
    }
    return problems;
  }

  return {
    overflow, weakFieldBorders, focusIndicator, focusIndicators, markFocusable, unreached,
    unlinkedErrors,
  };
})();
