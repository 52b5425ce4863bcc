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

  // The service worker for signed-in users, on every page and at the root scope: it makes the app installable
  // and shows pushes. Once per document: a boosted navigation (signing in is one) keeps this script running.
  // Resolves to the registration, or to null where there is none (signed out, no support, a failure).
  let registering = null;

  function registerServiceWorker() {
    const holder = document.querySelector("[data-service-worker]");
    if (!holder || !("serviceWorker" in navigator)) return Promise.resolve(null);
    if (!registering) {
      registering = navigator.serviceWorker.register(holder.dataset.serviceWorker, {scope: "/"}).catch((error) => {
        registering = null;  // the next page load tries again
        console.warn(error);
        return null;
      });
    }
    return registering;
  }

  document.addEventListener("DOMContentLoaded", registerServiceWorker);
  document.addEventListener("htmx:afterSettle", registerServiceWorker);

  // Web Push on the notification settings page: ask the browser, subscribe with the server's public key, store
  // the subscription, then show this device in the list. The service worker (/sw.js) shows what arrives.
  function csrfToken() {
    const holder = document.querySelector("[hx-headers]");
    return holder ? JSON.parse(holder.getAttribute("hx-headers"))["X-CSRFToken"] : "";
  }

  function keyBytes(base64url) {
    const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4));
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  }

  function pushSupported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  async function showPushStatus() {
    const status = document.querySelector("[data-push-status]");
    if (!status) return;
    if (!pushSupported()) { status.textContent = status.dataset.unsupported; return; }
    if (Notification.permission === "denied") { status.textContent = status.dataset.denied; return; }
    const registration = await navigator.serviceWorker.getRegistration("/");
    const subscription = registration && await registration.pushManager.getSubscription();
    status.textContent = subscription ? status.dataset.on : status.dataset.off;
  }

  async function subscribe(button) {
    const status = document.querySelector("[data-push-status]");
    if (!pushSupported()) { status.textContent = status.dataset.unsupported; return; }
    if (await Notification.requestPermission() !== "granted") { status.textContent = status.dataset.denied; return; }
    try {
      if (!await registerServiceWorker()) throw new Error("the service worker is not registered");
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe(
        {userVisibleOnly: true, applicationServerKey: keyBytes(button.dataset.key)});
      const response = await fetch(button.dataset.url, {
        method: "POST", credentials: "same-origin", body: JSON.stringify(subscription),
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
      });
      if (!response.ok) throw new Error("the server refused the subscription: " + response.status);
      status.textContent = status.dataset.on;
      toast(status.dataset.on, false);
      htmx.ajax("GET", button.dataset.devices, {target: "#devices", swap: "innerHTML"});
    } catch (error) {
      status.textContent = status.dataset.failed;
      console.warn(error);
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-push-subscribe]");
    if (button) subscribe(button);
  });
  document.addEventListener("DOMContentLoaded", showPushStatus);
  document.addEventListener("htmx:afterSettle", showPushStatus);

  // For static/js/offline.js.
  window.DealerLeads = {toast, closeSheet, sheet, sheetBody, csrfToken, registerServiceWorker};
})();
