// Structured editor for a rule's population, criteria and switch (guideline admin).
//
// Progressive enhancement: the form holds a JSON textarea (`textarea[data-rule-editor]`)
// that works on its own without JavaScript. This script reads it, shows a tree of native
// form controls instead (criterion = input, operator, value; groups all / any / not) and
// writes the JSON back into the textarea on every change, so the server always receives the
// same field. The vocabulary (inputs, kinds, allowed values, operators per kind) comes from
// guidelines/vocabulary.py through `json_script` (#rule-vocabulary); server-side problems
// (#rule-problems, {path, message}) are shown next to the node they name.
// Everything is a native <select>, <input> or <button>: keyboard use needs nothing extra.
(function () {
  "use strict";

  function readJSON(id, fallback) {
    const node = document.getElementById(id);
    if (!node) return fallback;
    try { return JSON.parse(node.textContent); } catch (e) { return fallback; }
  }

  function h(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([key, value]) {
      if (value === undefined || value === null || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "checked" || key === "selected" || key === "value") node[key] = value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.append(child.nodeType ? child : document.createTextNode(String(child)));
    });
    return node;
  }

  function clone(value) { return JSON.parse(JSON.stringify(value)); }

  class RuleEditor {
    constructor(textarea, container, vocabulary, problems) {
      this.textarea = textarea;
      this.field = textarea.closest(".field") || textarea;
      this.container = container;
      this.vocab = vocabulary;
      this.problems = problems || [];
      this.inputs = {};
      vocabulary.inputs.forEach((spec) => { this.inputs[spec.name] = spec; });
      this.focusKey = null;
      this.seq = 0;
      this.fieldErrors = Array.from(this.field.querySelectorAll(".field-error")).map((e) => e.textContent);
    }

    // ---- model <-> JSON -------------------------------------------------------------------
    load() {
      let data;
      try { data = JSON.parse(this.textarea.value || "{}"); } catch (error) { return false; }
      if (!data || typeof data !== "object" || Array.isArray(data)) return false;
      this.model = data;
      if (!this.model.population) this.model.population = this.defaultLeaf();
      return true;
    }

    mode() {
      if (Array.isArray(this.model.criteria)) return "criteria";
      if (this.model.switch) return "switch";
      return "population";
    }

    save() {
      const m = this.model;
      const out = { population: m.population };
      if (this.mode() === "criteria") {
        out.criteria = m.criteria;
        out.positive = m.positive;
        out.failure = m.failure;
      } else if (this.mode() === "switch") {
        out.switch = m.switch;
      } else {
        out.positive = m.positive;
      }
      this.textarea.value = JSON.stringify(out, null, 2);
    }

    changed(structural) {
      this.save();
      if (structural) this.render();
    }

    // ---- defaults ---------------------------------------------------------------------------
    defaultLeaf(name) {
      const spec = this.inputs[name] || this.vocab.inputs[0];
      const leaf = { input: spec.name, op: this.vocab.ops[spec.kind][0] };
      this.fitValue(leaf);
      return leaf;
    }

    isList(op) { return ["in", "not_in", "contains_any", "contains_none", "contains_all"].includes(op); }

    fitValue(leaf) {
      const spec = this.inputs[leaf.input];
      if (!spec) return;
      if (!this.vocab.ops[spec.kind].includes(leaf.op)) leaf.op = this.vocab.ops[spec.kind][0];
      const op = leaf.op;
      if (op === "is_true" || op === "is_false") { delete leaf.value; return; }
      const allowed = spec.values;
      if (this.isList(op)) {
        let list = Array.isArray(leaf.value) ? leaf.value : (leaf.value === undefined ? [] : [leaf.value]);
        if (allowed.length) list = list.filter((v) => allowed.includes(v));
        if (!list.length) list = allowed.length ? [allowed[0]] : [];
        leaf.value = list;
      } else if (spec.kind === "bool") {
        leaf.value = typeof leaf.value === "boolean" ? leaf.value : true;
      } else if (spec.kind === "number") {
        leaf.value = typeof leaf.value === "number" ? leaf.value : 0;
      } else {
        leaf.value = allowed.includes(leaf.value) ? leaf.value : allowed[0];
      }
    }

    // ---- rendering --------------------------------------------------------------------------
    key(path, role) { return path + "::" + role; }

    render() {
      const active = document.activeElement;
      if (!this.focusKey && active && this.container.contains(active)) {
        this.focusKey = active.dataset.key || null;
      }
      this.container.replaceChildren(this.renderAll());
      this.showProblems();
      if (this.focusKey) {
        const target = this.container.querySelector(`[data-key="${CSS.escape(this.focusKey)}"]`);
        if (target) target.focus();
        this.focusKey = null;
      }
    }

    renderAll() {
      const m = this.model;
      const mode = this.mode();
      const wrap = h("div", {}, [
        this.fieldErrors.length ? h("div", { class: "error-summary", role: "alert" }, [
          h("strong", { text: "The server did not accept the logic:" }),
          h("ul", {}, this.fieldErrors.map((text) => h("li", { text: text }))),
        ]) : null,
        h("div", { class: "editor-tools" }, [
          h("button", {
            type: "button", class: "secondary outline", "data-key": "::json",
            "aria-controls": this.textarea.id, text: "Edit as JSON",
            onclick: () => this.showJSON(true),
          }),
        ]),
        h("section", { "data-path": "population", "aria-labelledby": "ed-pop" }, [
          h("h3", { id: "ed-pop", text: "Population" }),
          this.renderExpr(m.population, "population", (node) => { m.population = node; }, null),
        ]),
        this.renderMode(mode),
      ]);
      if (mode === "criteria") wrap.append(this.renderCriteria());
      else if (mode === "switch") wrap.append(this.renderSwitch());
      else wrap.append(this.valueSelect("Value when the population is met", "positive", m, "positive", this.vocab.rule_values));
      return wrap;
    }

    renderMode(mode) {
      const options = [
        ["criteria", "Criteria list (all must be met)"],
        ["switch", "Switch (true / false / unknown)"],
        ["population", "Population only (one-line rule)"],
      ];
      const name = "rule-editor-mode-" + (++this.seq);
      return h("fieldset", { class: "mode" }, [
        h("legend", { text: "Rule logic" }),
        ...options.map(([value, label]) => h("label", {}, [
          h("input", {
            type: "radio", name: name, value: value, checked: mode === value,
            "data-key": this.key("mode", value),
            onchange: () => this.setMode(value),
          }),
          " " + label,
        ])),
      ]);
    }

    setMode(mode) {
      const m = this.model;
      if (mode === this.mode()) return;
      delete m.criteria; delete m.switch;
      if (mode === "criteria") {
        m.criteria = [this.newCriterion(1)];
        m.positive = m.positive || "consider";
        m.failure = m.failure || "against";
      } else if (mode === "switch") {
        m.switch = { id: "test", label: "", test: this.defaultLeaf(), true: "recommend", false: "not_applicable", unknown: "insufficient_data" };
        delete m.positive; delete m.failure;
      } else {
        m.positive = m.positive || "recommend";
        delete m.failure;
      }
      this.focusKey = this.key("mode", mode);
      this.changed(true);
    }

    newCriterion(n) {
      return { id: "criterion-" + n, label: "Criterion " + n, test: this.defaultLeaf() };
    }

    valueSelect(label, key, target, prop, values) {
      const id = "ed-" + key.replace(/[^a-z0-9]/gi, "-") + "-" + (++this.seq);
      return h("div", { class: "editor-value" }, [
        h("label", { for: id, text: label }),
        h("select", {
          id: id, "data-key": this.key(key, "value"),
          onchange: (event) => { target[prop] = event.target.value; this.changed(false); },
        }, values.map((v) => h("option", { value: v.value, selected: target[prop] === v.value, text: v.label }))),
      ]);
    }

    renderCriteria() {
      const m = this.model;
      const list = h("ol", { class: "criteria-editor" });
      m.criteria.forEach((criterion, index) => {
        const path = `criteria[${index}]`;
        const move = (delta) => {
          const j = index + delta;
          if (j < 0 || j >= m.criteria.length) return;
          [m.criteria[index], m.criteria[j]] = [m.criteria[j], m.criteria[index]];
          this.focusKey = this.key(`criteria[${j}]`, delta < 0 ? "up" : "down");
          this.changed(true);
        };
        list.append(h("li", {}, [h("fieldset", { class: "ed-criterion", "data-path": path }, [
          h("legend", { text: `Criterion ${index + 1}: ${criterion.label || criterion.id || ""}` }),
          h("div", { class: "criterion-meta" }, [
            this.textInput("Id", criterion, "id", path),
            this.textInput("Label", criterion, "label", path),
            this.fieldSelect(criterion, path),
          ]),
          this.renderExpr(criterion.test, path + ".test", (node) => { criterion.test = node; }, null),
          h("div", { class: "tools" }, [
            h("button", { type: "button", class: "secondary outline", "data-key": this.key(path, "up"), disabled: index === 0, onclick: () => move(-1), text: "Move up" }),
            h("button", { type: "button", class: "secondary outline", "data-key": this.key(path, "down"), disabled: index === m.criteria.length - 1, onclick: () => move(1), text: "Move down" }),
            h("button", {
              type: "button", class: "secondary outline", "data-key": this.key(path, "remove"),
              text: `Remove criterion ${index + 1}`,
              onclick: () => { m.criteria.splice(index, 1); this.focusKey = "::add-criterion"; this.changed(true); },
            }),
          ]),
        ])]));
      });
      return h("section", { "data-path": "criteria", "aria-labelledby": "ed-crit" }, [
        h("h3", { id: "ed-crit", text: "Criteria" }),
        list,
        h("button", {
          type: "button", class: "secondary", "data-key": "::add-criterion", text: "Add criterion",
          onclick: () => {
            m.criteria.push(this.newCriterion(m.criteria.length + 1));
            this.focusKey = this.key(`criteria[${m.criteria.length - 1}]`, "id");
            this.changed(true);
          },
        }),
        h("div", { class: "grid", "data-path": "positive" }, [
          this.valueSelect("Value when every criterion is met", "positive", m, "positive", this.vocab.rule_values),
          this.valueSelect("Value when a criterion is not met", "failure", m, "failure", this.vocab.rule_values),
        ]),
      ]);
    }

    renderSwitch() {
      const s = this.model.switch;
      const path = "switch";
      return h("section", { "data-path": path, "aria-labelledby": "ed-switch" }, [
        h("h3", { id: "ed-switch", text: "Switch" }),
        h("div", { class: "criterion-meta" }, [
          this.textInput("Id", s, "id", path),
          this.textInput("Label", s, "label", path),
          this.fieldSelect(s, path),
        ]),
        this.renderExpr(s.test, path + ".test", (node) => { s.test = node; }, null),
        h("div", { class: "grid" }, [
          this.valueSelect("When true", "switch-true", s, "true", this.vocab.switch_values),
          this.valueSelect("When false", "switch-false", s, "false", this.vocab.switch_values),
          this.valueSelect("When unknown", "switch-unknown", s, "unknown", this.vocab.switch_values),
        ]),
      ]);
    }

    textInput(label, target, prop, path) {
      const id = `ed-${prop}-${++this.seq}`;
      return h("div", {}, [
        h("label", { for: id, text: label }),
        h("input", {
          id: id, type: "text", value: target[prop] || "", "data-key": this.key(path, prop),
          oninput: (event) => { target[prop] = event.target.value; this.changed(false); },
        }),
      ]);
    }

    fieldSelect(target, path) {
      const id = `ed-field-${++this.seq}`;
      const options = [h("option", { value: "", selected: !target.field, text: "(the input's own field)" })]
        .concat(this.vocab.fields.map((f) => h("option", { value: f.name, selected: target.field === f.name, text: `${f.name} — ${f.label}` })));
      return h("div", {}, [
        h("label", { for: id, text: "Field named when unknown" }),
        h("select", {
          id: id, "data-key": this.key(path, "field"),
          onchange: (event) => {
            if (event.target.value) target.field = event.target.value; else delete target.field;
            this.changed(false);
          },
        }, options),
      ]);
    }

    // An expression node: group (all/any), not, or leaf. `replace(node)` swaps it in its
    // parent; `remove` (or null) deletes it from its parent group.
    renderExpr(node, path, replace, remove) {
      const swap = (next, focusRole) => {
        replace(next);
        this.focusKey = this.key(path, focusRole || "input");
        this.changed(true);
      };
      const common = (extra) => h("span", { class: "tools" }, [
        ...extra,
        h("button", { type: "button", class: "secondary outline", "data-key": this.key(path, "negate"), text: "Negate", onclick: () => swap({ not: node }, "unnegate") }),
        h("button", { type: "button", class: "secondary outline", "data-key": this.key(path, "wrap"), text: "Wrap in group", onclick: () => swap({ all: [node] }, "kind") }),
        remove ? h("button", { type: "button", class: "secondary outline", "data-key": this.key(path, "remove"), text: "Remove", onclick: remove }) : null,
      ]);

      if (node && (Array.isArray(node.all) || Array.isArray(node.any))) {
        const kind = Array.isArray(node.all) ? "all" : "any";
        const children = node[kind];
        const id = `ed-kind-${++this.seq}`;
        const list = h("ol", { class: "expr-children" });
        children.forEach((child, index) => {
          const childPath = `${path}.${kind}[${index}]`;
          list.append(h("li", {}, [this.renderExpr(child, childPath,
            (next) => { children[index] = next; },
            () => {
              children.splice(index, 1);
              this.focusKey = this.key(path, "add");
              this.changed(true);
            })]));
        });
        return h("fieldset", { class: "expr-group", "data-path": path }, [
          h("legend", {}, [
            h("label", { for: id, class: "visually-hidden", text: "Group type" }),
            h("select", {
              id: id, "data-key": this.key(path, "kind"),
              onchange: (event) => {
                const next = {}; next[event.target.value] = children;
                swap(next, "kind");
              },
            }, [
              h("option", { value: "all", selected: kind === "all", text: "All of (and)" }),
              h("option", { value: "any", selected: kind === "any", text: "Any of (or)" }),
            ]),
          ]),
          list,
          common([
            h("button", {
              type: "button", class: "secondary", "data-key": this.key(path, "add"), text: "Add condition",
              onclick: () => {
                children.push(this.defaultLeaf());
                this.focusKey = this.key(`${path}.${kind}[${children.length - 1}]`, "input");
                this.changed(true);
              },
            }),
            h("button", {
              type: "button", class: "secondary outline", "data-key": this.key(path, "add-group"), text: "Add group",
              onclick: () => {
                children.push({ any: [this.defaultLeaf()] });
                this.focusKey = this.key(`${path}.${kind}[${children.length - 1}]`, "kind");
                this.changed(true);
              },
            }),
          ]),
        ]);
      }

      if (node && node.not !== undefined) {
        return h("div", { class: "expr-not", "data-path": path, role: "group", "aria-label": "Not" }, [
          h("strong", { text: "NOT " }),
          this.renderExpr(node.not, path + ".not", (next) => { node.not = next; }, null),
          h("span", { class: "tools" }, [
            h("button", { type: "button", class: "secondary outline", "data-key": this.key(path, "unnegate"), text: "Remove NOT", onclick: () => swap(node.not, "input") }),
            remove ? h("button", { type: "button", class: "secondary outline", "data-key": this.key(path, "remove"), text: "Remove", onclick: remove }) : null,
          ]),
        ]);
      }

      if (!node || typeof node !== "object" || !this.inputs[node.input]) {
        // Unknown or malformed node (e.g. an input not in the vocabulary): offer a fresh one.
        const label = node && node.input ? `Unknown input “${node.input}”` : "Invalid condition";
        return h("div", { class: "expr-leaf", "data-path": path }, [
          h("span", { class: "problem", text: label }),
          h("button", { type: "button", "data-key": this.key(path, "input"), text: "Replace with a new condition", onclick: () => swap(this.defaultLeaf(), "input") }),
        ]);
      }
      return this.renderLeaf(node, path, common);
    }

    renderLeaf(leaf, path, common) {
      const spec = this.inputs[leaf.input];
      const inputId = `ed-input-${++this.seq}`;
      const opId = `ed-op-${this.seq}`;
      const groups = {};
      this.vocab.inputs.forEach((item) => { (groups[item.origin] = groups[item.origin] || []).push(item); });
      const inputSelect = h("select", {
        id: inputId, "data-key": this.key(path, "input"), "aria-label": "Input",
        onchange: (event) => {
          leaf.input = event.target.value;
          this.fitValue(leaf);
          this.focusKey = this.key(path, "input");
          this.changed(true);
        },
      }, Object.entries(groups).map(([origin, items]) => h("optgroup", { label: this.vocab.origins[origin] || origin },
        items.map((item) => h("option", { value: item.name, selected: item.name === leaf.input, text: `${item.label} (${item.name})` })))));
      const opSelect = h("select", {
        id: opId, "data-key": this.key(path, "op"), "aria-label": "Operator",
        onchange: (event) => {
          leaf.op = event.target.value;
          this.fitValue(leaf);
          this.focusKey = this.key(path, "op");
          this.changed(true);
        },
      }, this.vocab.ops[spec.kind].map((op) => h("option", { value: op, selected: op === leaf.op, text: this.vocab.op_labels[op] || op })));
      return h("div", { class: "expr-leaf", "data-path": path, role: "group", "aria-label": "Condition" }, [
        inputSelect, opSelect, this.valueWidget(leaf, spec, path), common([]),
      ]);
    }

    valueWidget(leaf, spec, path) {
      const op = leaf.op;
      const key = this.key(path, "value");
      if (op === "is_true" || op === "is_false") return null;
      if (this.isList(op) && spec.values.length) {
        const chosen = new Set(leaf.value || []);
        return h("fieldset", { class: "values", "data-key": key, "aria-label": "Values" },
          spec.values.map((value, index) => h("label", {}, [
            h("input", {
              type: "checkbox", value: value, checked: chosen.has(value),
              "data-key": index === 0 ? key : this.key(path, "value-" + value),
              onchange: (event) => {
                if (event.target.checked) chosen.add(value); else chosen.delete(value);
                leaf.value = spec.values.filter((v) => chosen.has(v));
                this.changed(false);
              },
            }),
            " " + value,
          ])));
      }
      if (this.isList(op)) {  // numbers: comma-separated
        return h("input", {
          type: "text", "data-key": key, "aria-label": "Values (comma-separated numbers)",
          value: (leaf.value || []).join(", "),
          oninput: (event) => {
            leaf.value = event.target.value.split(",").map((t) => t.trim()).filter(Boolean)
              .map((t) => (Number.isFinite(Number(t)) ? Number(t) : t));
            this.changed(false);
          },
        });
      }
      if (spec.kind === "bool") {
        return h("select", {
          "data-key": key, "aria-label": "Value",
          onchange: (event) => { leaf.value = event.target.value === "true"; this.changed(false); },
        }, [h("option", { value: "true", selected: leaf.value === true, text: "true" }),
          h("option", { value: "false", selected: leaf.value === false, text: "false" })]);
      }
      if (spec.kind === "number") {
        return h("input", {
          type: "number", step: "any", "data-key": key, "aria-label": "Value",
          value: leaf.value === undefined ? "" : String(leaf.value),
          oninput: (event) => {
            const text = event.target.value;
            leaf.value = text === "" || !Number.isFinite(Number(text)) ? text : Number(text);
            this.changed(false);
          },
        });
      }
      return h("select", {
        "data-key": key, "aria-label": "Value",
        onchange: (event) => { leaf.value = event.target.value; this.changed(false); },
      }, spec.values.map((value) => h("option", { value: value, selected: leaf.value === value, text: value })));
    }

    // ---- problems and raw JSON ---------------------------------------------------------------
    showProblems() {
      const nodes = Array.from(this.container.querySelectorAll("[data-path]"));
      this.problems.forEach((problem) => {
        let best = null;
        nodes.forEach((node) => {
          const p = node.dataset.path;
          const fits = problem.path === p || problem.path.startsWith(p + ".") || problem.path.startsWith(p + "[");
          if (fits && (!best || p.length > best.dataset.path.length)) best = node;
        });
        if (!best) return;
        best.classList.add("has-problem");
        best.append(h("small", { class: "problem", role: "alert", text: `${problem.path}: ${problem.message}` }));
      });
    }

    showJSON(show) {
      this.field.hidden = !show;
      this.container.hidden = show;
      if (show) {
        this.textarea.focus();
      } else {
        this.focusKey = "::json";
        this.render();
      }
      this.toggle.hidden = !show;
    }

    start() {
      if (!this.load()) return false;  // unreadable JSON: keep the textarea (the fallback)
      const message = h("small", { class: "problem", role: "alert" });
      this.toggle = h("button", {
        type: "button", class: "secondary outline", hidden: true, text: "Back to the structured editor",
        onclick: () => {
          if (this.load()) {
            message.textContent = "";
            this.problems = [];
            this.fieldErrors = [];
            this.showJSON(false);
          } else {
            message.textContent = "The JSON cannot be read; fix it, or save to see where the error is.";
          }
        },
      });
      this.field.after(this.toggle, message);
      this.field.hidden = true;
      this.container.hidden = false;
      this.render();
      return true;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const textarea = document.querySelector("textarea[data-rule-editor]");
    const container = document.getElementById("rule-editor");
    const vocabulary = readJSON("rule-vocabulary", null);
    if (!textarea || !container || !vocabulary) return;
    const editor = new RuleEditor(textarea, container, vocabulary, readJSON("rule-problems", []));
    window.ruleEditor = editor;
    editor.start();
    const summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  });
})();
