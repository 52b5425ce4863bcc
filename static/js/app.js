// Behaviour that htmx attributes cannot express. Loaded as a file, so the Content-Security-Policy stays strict.
(function () {
  "use strict";

  const sheet = () => document.getElementById("sheet");
  const sheetBody = () => document.getElementById("sheet-body");

  function toast(message, isError) {
    const box = document.getElementById("toast");
    if (!box || !message) return;
    box.textContent = message;
    box.classList.toggle("toast-error", Boolean(isError));
    box.hidden = false;
    clearTimeout(box.hideTimer);
    box.hideTimer = setTimeout(() => { box.hidden = true; }, 4000);
  }

  function closeSheet() {
    const dialog = sheet();
    if (dialog && dialog.open) dialog.close();
  }

  // Tapping Call or SMS records the attempt and opens the outcome sheet; the tel:/sms: link then goes on to
  // the phone's dialler as usual, so the sheet is waiting when the consultant comes back to the app.
  // WeChat has no link: the button copies the customer's WeChat id for pasting into WeChat.
  document.addEventListener("click", (event) => {
    const trigger = event.target.closest("[data-attempt]");
    if (trigger) {
      if (trigger.dataset.copy && navigator.clipboard) {
        navigator.clipboard.writeText(trigger.dataset.copy).then(
          () => toast(trigger.dataset.copied), () => toast(trigger.dataset.copy));
      }
      htmx.ajax("POST", trigger.dataset.attempt, {source: trigger, target: "#sheet-body", swap: "innerHTML"});
      return;
    }
    if (event.target.closest("[data-close-sheet]")) closeSheet();
  });

  // Choosing a custom day or time selects the "custom" next follow-up.
  document.addEventListener("input", (event) => {
    const custom = event.target.closest("[data-custom-for]");
    if (custom) {
      const radio = document.getElementById(custom.dataset.customFor);
      if (radio) radio.checked = true;
    }
  });

  // Opened once htmx has settled the new content, so its forms are wired before anyone can tap them.
  document.addEventListener("htmx:afterSettle", (event) => {
    const body = sheetBody();
    if (event.detail.target === body && body.childElementCount && !sheet().open) sheet().showModal();
  });

  document.addEventListener("lead-changed", (event) => {
    closeSheet();
    toast(event.detail.message, false);
  });

  document.addEventListener("lead-refused", (event) => toast(event.detail.message, true));
})();
