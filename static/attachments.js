// Attachments: drop files onto an upload form, hear at once when a file is too large,
// and watch a large upload's progress. The forms work without this script (a plain
// multipart post); htmx sends them and swaps the answer in. No inline script, no eval.
(function () {
  "use strict";

  const FORMS = "form[data-upload]";

  const fileInput = (form) => form.querySelector('input[type="file"]');
  const progressOf = (form) => form.querySelector(".upload-progress");
  const uploadForm = (node) => (node instanceof Element ? node.closest(FORMS) : null);
  const carriesFiles = (event) =>
    event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files");

  // A text in the reader's language: base.html renders them as data-* attributes of
  // #tessera-texts; English when a page has none. {name} is replaced by values[name].
  function text(key, english, values = {}) {
    const source = document.getElementById("tessera-texts");
    const template = (source && source.dataset[key]) || english;
    return template.replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(values, name) ? String(values[name]) : whole));
  }

  function say(form, words) {
    const message = form.querySelector(".upload-message");
    if (!message) return;
    message.textContent = words;
    message.hidden = !words;
  }

  function tooLarge(form) {
    const limit = Number(form.dataset.maxFile);
    const input = fileInput(form);
    if (!limit || !input) return "";
    const big = Array.from(input.files).filter((file) => file.size > limit);
    if (!big.length) return "";
    // The form says it in the reader's language (with the size limit), with a place for
    // the names; else the page's general text.
    const names = big.map((file) => file.name).join(", ");
    if (form.dataset.tooLarge) return form.dataset.tooLarge.replace("{names}", () => names);
    return text("tooLarge", "Too large: {names}", { names });
  }

  // Checked on the way down to the form, before htmx sends it: a file the server would
  // refuse is not sent at all.
  document.addEventListener(
    "submit",
    (event) => {
      const form = uploadForm(event.target);
      if (!form) return;
      const problem = tooLarge(form);
      say(form, problem);
      if (problem) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );

  document.addEventListener("change", (event) => {
    const form = uploadForm(event.target);
    if (form && event.target === fileInput(form)) say(form, tooLarge(form));
  });

  for (const type of ["dragenter", "dragover"]) {
    document.addEventListener(type, (event) => {
      const form = uploadForm(event.target);
      if (!form || !carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      form.classList.add("is-dropping");
    });
  }

  document.addEventListener("dragleave", (event) => {
    const form = uploadForm(event.target);
    if (form && !form.contains(event.relatedTarget)) form.classList.remove("is-dropping");
  });

  // Dropped files become the form's files; a form marked data-upload="send" (the
  // ticket's upload form) sends them at once, a comment waits for its text.
  document.addEventListener("drop", (event) => {
    const form = uploadForm(event.target);
    if (!form || !carriesFiles(event)) return;
    event.preventDefault();
    form.classList.remove("is-dropping");
    const input = fileInput(form);
    input.files = event.dataTransfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    if (form.dataset.upload === "send" && !tooLarge(form)) form.requestSubmit();
  });

  // htmx reports the progress of the upload, then of the answer: the bar follows the
  // upload only, until its end (the first loadend).
  document.addEventListener("htmx:beforeSend", (event) => {
    const form = uploadForm(event.target);
    const bar = form && progressOf(form);
    const input = form && fileInput(form);
    if (!bar || !input || !input.files.length) return;
    bar.value = 0;
    bar.textContent = text("progress", "{percent}%", { percent: 0 });
    bar.hidden = false;
    bar.dataset.uploading = "true";
  });

  document.addEventListener("htmx:xhr:progress", (event) => {
    const form = uploadForm(event.target);
    const bar = form && progressOf(form);
    if (!bar || !bar.dataset.uploading || !event.detail.lengthComputable) return;
    const percent = Math.round((100 * event.detail.loaded) / event.detail.total);
    bar.value = percent;
    bar.textContent = text("progress", "{percent}%", { percent });
  });

  document.addEventListener("htmx:xhr:loadend", (event) => {
    const form = uploadForm(event.target);
    const bar = form && progressOf(form);
    if (bar) delete bar.dataset.uploading;
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    const form = uploadForm(event.target);
    const bar = form && progressOf(form);
    if (bar) bar.hidden = true;
  });
})();
