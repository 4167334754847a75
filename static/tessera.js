// Tessera's own script: keyboard triage and row selection in ticket lists.
// Every key presses a real button or link of the page, so nothing here is needed for the
// page to work; it only makes it quicker. No inline script, no eval (see the CSP).
(function () {
  "use strict";

  const selected = new Set(); // ticket ids, kept while htmx swaps rows in and out
  let currentId = null; // the row j/k are on
  let lastClicked = null; // for shift-click ranges

  const list = () => document.getElementById("ticket-list");
  const rows = () => Array.from(document.querySelectorAll("#ticket-list tr.ticket-row"));
  const rowId = (row) => row.id.replace("ticket-", "");
  const boxOf = (row) => row.querySelector('input[type="checkbox"][name="ids"]');

  // A text in the reader's language: base.html renders them as data-* attributes of
  // #tessera-texts; English when a page has none. {name} is replaced by values[name].
  function text(key, english, values = {}) {
    const source = document.getElementById("tessera-texts");
    const template = (source && source.dataset[key]) || english;
    return template.replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(values, name) ? String(values[name]) : whole));
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function setCurrent(row) {
    rows().forEach((r) => r.classList.remove("is-current"));
    if (!row) return;
    row.classList.add("is-current");
    currentId = rowId(row);
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function current() {
    return currentId ? document.getElementById("ticket-" + currentId) : null;
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const index = all.indexOf(current());
    const next = index < 0 ? 0 : Math.min(all.length - 1, Math.max(0, index + step));
    setCurrent(all[next]);
  }

  function openMenu(row, name) {
    const menu = row && row.querySelector("details." + name);
    if (!menu) return;
    menu.open = true;
    const first = menu.querySelector(".menu-items button");
    if (first) first.focus();
  }

  function updateCount() {
    const label = document.getElementById("selected-count");
    if (!label) return;
    const n = selected.size;
    label.textContent = n
      ? text(n === 1 ? "selectedOne" : "selectedOther", "{num} selected", { num: n })
      : text("noneSelected", "None selected");
  }

  function restore() {
    // After htmx swapped rows: put back the selection and the current row.
    rows().forEach((row) => {
      const box = boxOf(row);
      if (box) box.checked = selected.has(rowId(row));
    });
    const row = current();
    if (row) row.classList.add("is-current");
    updateCount();
  }

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (!box.matches('input[type="checkbox"][name="ids"]')) return;
    if (box.checked) selected.add(box.value);
    else selected.delete(box.value);
    updateCount();
  });

  document.addEventListener("click", (event) => {
    const box = event.target.closest('input[type="checkbox"][name="ids"]');
    if (box) {
      const all = rows();
      const row = box.closest("tr");
      if (event.shiftKey && lastClicked) {
        const [a, b] = [all.indexOf(lastClicked), all.indexOf(row)].sort((x, y) => x - y);
        if (a >= 0) {
          all.slice(a, b + 1).forEach((r) => {
            const other = boxOf(r);
            if (other && other.checked !== box.checked) {
              other.checked = box.checked;
              other.dispatchEvent(new Event("change", { bubbles: true }));
            }
          });
        }
      }
      lastClicked = row;
      return;
    }
    if (event.target.closest("[data-show-keys]")) showKeys();
    // One open row menu at a time.
    const summary = event.target.closest("details.menu > summary");
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      if (!summary || menu !== summary.parentElement) menu.open = false;
    });
  });

  function showKeys() {
    const dialog = document.getElementById("keys");
    if (dialog && !dialog.open) dialog.showModal();
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      document.querySelectorAll("details.menu[open]").forEach((menu) => {
        menu.open = false;
        // Focus must not stay on a button the closed menu now hides.
        if (menu.contains(document.activeElement)) menu.querySelector("summary").focus();
      });
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target) || !list()) return;
    const row = current();
    // Enter opens the current row; on a button, link or menu it keeps doing what it does there.
    if (event.key === "Enter" && !(row && event.target === row)) return;
    const act = {
      j: () => move(1),
      k: () => move(-1),
      x: () => row && boxOf(row) && boxOf(row).click(),
      t: () => row && row.querySelector("button.take") && row.querySelector("button.take").click(),
      a: () => openMenu(row, "assign-menu"),
      s: () => openMenu(row, "state-menu"),
      Enter: () => row.querySelector("td.summary a").click(),
      "/": () => document.getElementById("filter-q") && document.getElementById("filter-q").focus(),
      "?": showKeys,
    }[event.key];
    if (act) {
      event.preventDefault();
      act();
    }
  });

  // Focus after a swap. When htmx replaced what had the focus, the focus would fall back to
  // <body>; put it on the same control in the new content if it is still there, else on what
  // was swapped in: the row, the ticket's header, the new comment (all tabindex="-1").
  let swap = null; // what the main swap replaces, and where the focus was
  let oob = null; // the same for an out-of-band swap that took the focus away

  function describe(el) {
    if (!el || el === document.body) return null;
    return { id: el.id, tag: el.tagName, name: el.getAttribute("name"), value: el.getAttribute("value"),
      href: el.getAttribute("href"), text: el.textContent.trim() };
  }

  function same(root, was) {
    if (!root || !was) return null;
    if (was.id) return document.getElementById(was.id);
    const candidates = root.querySelectorAll(was.tag);
    return Array.from(candidates).find((el) => (was.name !== null || was.href !== null || el.textContent.trim() === was.text)
      && el.getAttribute("name") === was.name && el.getAttribute("value") === was.value
      && el.getAttribute("href") === was.href) || null;
  }

  function focusOn(el) {
    if (!el) return false;
    if (!el.matches("a[href], button, input, select, textarea, summary, [tabindex]")) el.setAttribute("tabindex", "-1");
    el.focus({ preventScroll: true });
    if (document.activeElement !== el) return false;
    if (el.matches("#ticket-list tr.ticket-row")) setCurrent(el);
    el.scrollIntoView({ block: "nearest" });
    return true;
  }

  const CONTROLS = "button, a[href], input:not([type=hidden]), select, textarea";
  const focusLost = () => !document.activeElement || document.activeElement === document.body;

  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    const elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    const styled = elt && elt.closest("[hx-swap]");
    const style = styled ? styled.getAttribute("hx-swap").split(" ")[0] : "innerHTML";
    const active = document.activeElement;
    swap = { target, style, prev: target.previousElementSibling, parent: target.parentElement,
      had: target.contains(active) ? describe(active) : null, byUser: !(elt && elt.matches("[hx-trigger^='every']")) };
    oob = null;
  });

  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    const target = event.detail.target;
    if (target && target.id && target.contains(document.activeElement)) oob = { id: target.id, had: describe(document.activeElement) };
  });

  document.addEventListener("htmx:afterSettle", () => {
    const memo = swap;
    swap = null;
    if (!memo) return;
    // What the visitor added (a comment) is where they look next, wherever the focus is.
    if (memo.byUser && memo.style === "beforeend" && focusOn(memo.target.lastElementChild)) return;
    if (!focusLost()) return;
    let fresh = null;
    if (memo.style === "outerHTML") fresh = memo.prev ? memo.prev.nextElementSibling : memo.parent && memo.parent.firstElementChild;
    else if (memo.style === "beforeend") fresh = memo.target.lastElementChild;
    else fresh = memo.target;
    // Else where the focus was.
    if (oob && !memo.had) {
      const root = document.getElementById(oob.id);
      if (focusOn(same(root, oob.had)) || focusOn(root)) return;
    }
    if (!fresh || !fresh.isConnected || focusOn(same(fresh, memo.had))) return;
    const control = fresh.hasAttribute("tabindex") ? null : fresh.querySelector(CONTROLS);
    if (!focusOn(control)) focusOn(fresh);
  });

  document.addEventListener("htmx:afterSettle", restore);
  document.addEventListener("htmx:oobAfterSwap", restore);
  // The bulk form's result replaces the rows it changed; what was done is no longer selected.
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt && event.detail.elt.id === "bulk-form" && event.detail.successful) {
      selected.clear();
      restore();
    }
  });

  // A comment posted (200; a refused one comes back as the form with its errors): the page
  // empties the form itself, and what was wrong with an earlier try goes with it. The
  // answer holds only what the timeline lacks.
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (!form || form.id !== "comment-form" || event.detail.xhr.status !== 200) return;
    // A refused try's form came back holding its text: that is what reset() would restore.
    form.querySelectorAll("textarea").forEach((box) => { box.defaultValue = ""; });
    form.reset();
    form.querySelectorAll(".field.has-error").forEach((f) => f.classList.remove("has-error"));
    form.querySelectorAll("p.field-error[id$='-error']").forEach((p) => p.remove());
    form.querySelectorAll("[aria-invalid]").forEach((input) => {
      input.removeAttribute("aria-invalid");
      const hints = (input.getAttribute("aria-describedby") || "").split(" ")
        .filter((id) => id && !id.endsWith("-error"));
      if (hints.length) input.setAttribute("aria-describedby", hints.join(" "));
      else input.removeAttribute("aria-describedby");
    });
  });
})();
