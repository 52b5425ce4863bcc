// Offline entry, the page's side (the service worker keeps pages and queues writes; static/js/outbox.js keeps the
// entries). Here: every offline-capable form gets a key of its own (sent as Idempotency-Key, kept through a double
// tap); a queued entry closes the form with "saved on this phone"; the badge counts what waits; the outbox page
// lists it; entries are sent on load, when the signal returns, when the app comes back to the front, on "Sync now"
// and by the worker's `sync` event; a kept page says how old it is; a new release reloads only on a tap.
(function () {
  "use strict";

  const app = () => window.DealerLeads;
  const holder = () => document.querySelector(".app[data-user]");
  const user = () => (holder() ? holder().dataset.user : null);
  const texts = () => JSON.parse((holder() && holder().dataset.outboxTexts) || "{}");
  const fill = (text, values) => String(text || "").replace(/\{(\w+)\}/g, (all, name) => values[name] ?? all);
  const supported = () => "serviceWorker" in navigator && "indexedDB" in window && Boolean(window.Outbox);
  let known = [];  // this user's entries at the last look

  // Keys: one per entry, made when the form is first sent and kept until the server (or the outbox) has it,
  // so a second tap on Save, or the same form sent again after a timeout, is the same entry.
  document.addEventListener("htmx:configRequest", (event) => {
    const form = offlineForm(event.detail.elt);
    if (!form || !user() || !(window.crypto && crypto.randomUUID)) return;
    if (!form.dataset.entryKey) form.dataset.entryKey = crypto.randomUUID();
    const about = JSON.parse(form.dataset.offlineEntry || "{}");
    const name = form.elements.namedItem("name");
    if (!about.title && name && name.value) about.title = name.value;
    about.user = user();
    event.detail.headers["Idempotency-Key"] = form.dataset.entryKey;
    event.detail.headers["X-Offline-Entry"] = encodeURIComponent(JSON.stringify(about));
  });

  // Saved (or queued): the next entry from this form is another one, and a fixed entry's refused copy goes.
  // Before the swap, as a boosted form is gone after it (its events would no longer reach the document).
  function saved(form) {
    delete form.dataset.entryKey;
    delete form.dataset.dirty;
    if (form.dataset.fixes) {
      const refused = Number(form.dataset.fixes);
      delete form.dataset.fixes;
      window.Outbox.remove(refused).then(refresh);
    }
  }

  const offlineForm = (element) => element && element.closest && element.closest("form[data-offline-entry]");
  // The element that made the request (for a boosted form, detail.elt is the boosting <body>).
  const sender = (detail) => offlineForm(detail.requestConfig ? detail.requestConfig.elt : detail.elt);

  document.addEventListener("htmx:beforeSwap", (event) => {
    const form = sender(event.detail);
    if (form && !event.detail.isError && event.detail.xhr.status < 300) saved(form);
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = sender(event.detail);
    if (form && event.detail.successful) saved(form);
  });

  // The worker kept the entry: the form is done, as if the server had it.
  document.addEventListener("entry-queued", (event) => {
    const form = event.target.closest && event.target.closest("form");
    if (form && !form.closest("#sheet")) form.reset();  // an inline form is ready for the next entry
    app().closeSheet();
    app().toast(texts().queued, false);
    keepStorage();
    requestBackgroundSync();
    refresh();
    if (navigator.onLine) sendSoon(500);  // queued behind older entries: send them all now
  });

  // Call or SMS without signal: the dialler still works; the contact is logged on the form kept on the phone
  // (instead of recording the attempt first, static/js/app.js), with the channel tapped chosen.
  function openLogSheet(trigger) {
    htmx.ajax("GET", trigger.dataset.offlineSheet, {source: trigger, target: "#sheet-body", swap: "innerHTML"})
      .then(() => {
        const channel = app().sheetBody().querySelector(`input[name="kind"][value="${trigger.dataset.kind}"]`);
        if (channel) channel.checked = true;
      });
  }

  document.addEventListener("click", (event) => {
    const trigger = event.target.closest && event.target.closest("[data-attempt][data-offline-sheet]");
    if (trigger && !navigator.onLine) {
      event.stopPropagation();  // the link still opens the dialler
      openLogSheet(trigger);
    }
  }, true);

  document.addEventListener("htmx:sendError", (event) => {
    const trigger = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("[data-offline-sheet]");
    if (trigger) {
      openLogSheet(trigger);
    } else {
      app().toast(texts().no_signal, true);
    }
  });

  document.addEventListener("offline-unavailable", () => app().toast(texts().unavailable, true));

  // The time a contact was made, for a form that may be sent much later.
  document.addEventListener("htmx:afterSettle", (event) => {
    for (const input of event.detail.target.querySelectorAll("input[data-now]")) input.value = new Date().toISOString();
  });

  // "Offline — as of 14:05" on a page the worker answered with its kept copy.
  function showOfflineNote() {
    const note = document.querySelector("[data-offline-note]");
    if (!note) return;
    note.hidden = !note.dataset.asOf;
    if (note.dataset.asOf) {
      const time = new Date(note.dataset.asOf).toLocaleTimeString(
        document.documentElement.lang, {hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
      note.textContent = fill(texts().as_of, {time});
    }
  }

  // The badge, the "waiting to sync" marks on the leads they concern, and the outbox page.
  async function refresh() {
    if (!user() || !supported()) return;
    known = await window.Outbox.entries(user());
    const badge = document.querySelector("[data-outbox-badge]");
    if (badge) {
      badge.hidden = !known.length;
      badge.textContent = fill(texts().badge, {n: known.length});
      badge.classList.toggle("attention", known.some((entry) => entry.state !== "waiting"));
    }
    for (const lead of document.querySelectorAll("[data-lead-id]")) {
      const waiting = known.filter((entry) => String(entry.lead) === lead.dataset.leadId).length;
      let mark = lead.querySelector(":scope > .waiting-mark");
      if (waiting && !mark) {
        mark = document.createElement("span");
        mark.className = "chip waiting-mark";
        lead.prepend(mark);
      }
      if (mark) {
        mark.hidden = !waiting;
        mark.textContent = texts().waiting;
      }
    }
    showOutbox(known);
  }

  function showOutbox(entries) {
    const template = document.getElementById("outbox-entry");
    if (!template) return;
    for (const section of document.querySelectorAll("[data-outbox-list]")) {
      const state = section.dataset.outboxList;
      const mine = entries.filter((entry) => entry.state === state);
      section.querySelector("ul").replaceChildren(...mine.map((entry) => entryItem(template, entry)));
      if (state === "attention") section.hidden = !mine.length;
    }
    const empty = document.querySelector("[data-outbox-empty]");
    if (empty) empty.hidden = entries.some((entry) => entry.state === "waiting");
  }

  function entryItem(template, entry) {
    const item = template.content.firstElementChild.cloneNode(true);
    const field = (name) => item.querySelector(`[data-field="${name}"]`);
    const attention = entry.state !== "waiting";
    item.dataset.seq = entry.seq;
    item.classList.toggle("attention", attention);
    field("kind").textContent = (texts().kinds || {})[entry.kind] || entry.kind;
    field("title").textContent = entry.title;
    field("made").dateTime = entry.made;
    field("made").textContent = new Date(entry.made).toLocaleString(
      document.documentElement.lang, {weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
    field("problem").hidden = !attention;
    field("problem").textContent = attention ? problemText(entry.problem) : "";
    item.querySelector("[data-attention-only]").hidden = !attention;
    item.querySelector('[data-outbox-action="fix"]').hidden = !(attention && problemForm(entry.problem));
    if (entry.lead) {
      field("lead").href = `/leads/${Number(entry.lead)}`;
      field("lead").hidden = false;
    }
    return item;
  }

  // What the server said, in its own words where it gave any.
  function problemText(problem) {
    try {
      const refused = (JSON.parse(problem.trigger || "{}")["lead-refused"] || {}).message;
      if (refused) return refused;
    } catch (error) { /* not JSON: read the body */ }
    if (problem.status === 404) return texts().gone;
    if (problem.status === 403) return texts().forbidden;
    const page = new DOMParser().parseFromString(problem.html || "", "text/html");
    const said = page.querySelector(".error, .error-page h1");
    return said ? said.textContent.trim() : texts().refused;
  }

  // The entry's form as the server sent it back, with the values and the messages, when it sent one.
  function problemForm(problem) {
    return new DOMParser().parseFromString(problem.html || "", "text/html").querySelector("form[data-offline-entry]");
  }

  // Fix: the returned form opens in the sheet with the current CSRF token; once it is saved (or queued again)
  // the refused entry goes.
  async function fix(seq) {
    const entry = await window.Outbox.get(seq);
    const form = entry && problemForm(entry.problem);
    if (!form) return;
    const copy = document.importNode(form, true);
    copy.dataset.fixes = String(seq);
    for (const token of copy.querySelectorAll('input[name="csrf_token"]')) token.value = app().csrfToken();
    app().sheetBody().replaceChildren(copy);
    htmx.process(copy);
    app().sheet().showModal();
  }

  document.addEventListener("click", async (event) => {
    const action = event.target.closest("[data-outbox-action]");
    if (action) {
      const seq = Number(action.closest("[data-seq]").dataset.seq);
      if (action.dataset.outboxAction === "fix") await fix(seq);
      if (action.dataset.outboxAction === "resend") {
        await window.Outbox.retry(seq);
        await send(true);
      }
      if (action.dataset.outboxAction === "discard" && window.confirm(texts().discard)) {
        await window.Outbox.remove(seq);
      }
      await refresh();
      return;
    }
    if (event.target.closest("[data-sync-now]")) send(true);
  });

  // Sending: one tab or the worker at a time (Web Locks, in outbox.js). A failure tries again, less and less
  // often, while the phone thinks it is online; going online or coming to the front tries at once.
  let retryIn = 0;
  let retryTimer = null;
  let soonTimer = null;

  async function send(byHand) {
    if (!user() || !supported()) return;
    clearTimeout(retryTimer);
    const waiting = (await window.Outbox.counts(user())).waiting;
    if (!waiting || !navigator.onLine) {
      status(waiting ? texts().no_signal : "");
      return;
    }
    const result = await window.Outbox.sync();
    await refresh();
    const words = {offline: texts().no_signal, retry: texts().retry, "signed-out": texts().sign_in};
    status(words[result.state] || "");
    if (byHand && words[result.state]) app().toast(words[result.state], true);
    if (["offline", "retry", "busy"].includes(result.state) && navigator.onLine) {  // busy: the worker is at it
      retryIn = Math.min(retryIn ? retryIn * 2 : 1000, 60000);
      retryTimer = setTimeout(send, retryIn);
    } else {
      retryIn = 0;
    }
  }

  function sendSoon(delay) {
    clearTimeout(soonTimer);
    soonTimer = setTimeout(send, delay);
  }

  function status(text) {
    const line = document.querySelector("[data-outbox-status]");
    if (line) line.textContent = text;
  }

  // Whoever sent (this tab, another, the worker): the lists follow, and pages showing leads refresh.
  if (typeof BroadcastChannel === "function") {
    new BroadcastChannel("dealer-leads-outbox").addEventListener("message", (event) => {
      if (event.data && event.data.type === "synced") {
        app().toast(fill(texts().synced, {n: event.data.sent}), false);
        htmx.trigger(document.body, "entries-synced");
      }
      refresh();
    });
  }

  async function requestBackgroundSync() {
    const registration = await navigator.serviceWorker.ready;
    if (registration.sync) await registration.sync.register("outbox").catch(() => {});
  }

  // Ask the browser not to clear the outbox when the phone runs short of space.
  function keepStorage() {
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persisted().then((persisted) => persisted || navigator.storage.persist()).catch(() => {});
    }
  }

  // While there is signal, keep the leads on this page (and their forms) for reading and entry offline.
  function warm() {
    const controller = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (!controller || !navigator.onLine || !user()) return;
    const wanted = new Map();
    for (const element of document.querySelectorAll("[data-offline-sheet]")) {
      wanted.set(element.dataset.offlineSheet, {url: element.dataset.offlineSheet, fragment: true});
    }
    for (const element of document.querySelectorAll("[data-warm]")) {
      const url = element.getAttribute("href");
      wanted.set(url + element.dataset.warm, {url, fragment: element.dataset.warm === "fragment"});
    }
    if (wanted.size) controller.postMessage({type: "warm", urls: [...wanted.values()]});
  }

  // A new release: offered, and taken on a tap, never while something is being entered.
  let reloading = false;

  function entryInProgress() {
    return app().sheet().open || Boolean(document.querySelector("form[data-offline-entry][data-dirty]"));
  }

  document.addEventListener("input", (event) => {
    const form = event.target.closest("form[data-offline-entry]");
    if (form) form.dataset.dirty = "1";
  });

  async function offerUpdates() {
    const registration = await app().registerServiceWorker();
    if (!registration) return;
    const prompt = document.querySelector("[data-update-prompt]");
    const offer = () => {
      if (prompt && registration.waiting && navigator.serviceWorker.controller) prompt.hidden = false;
    };
    offer();
    registration.addEventListener("updatefound", () => {
      const installing = registration.installing;
      if (installing) installing.addEventListener("statechange", () => installing.state === "installed" && offer());
    });
    document.addEventListener("click", (event) => {
      if (!event.target.closest("[data-update-now]") || !registration.waiting) return;
      if (entryInProgress()) {
        app().toast(texts().finish_first, true);
        return;
      }
      reloading = true;
      registration.waiting.postMessage({type: "activate"});
    });
    navigator.serviceWorker.addEventListener("controllerchange", () => reloading && window.location.reload());
  }

  // Signing out: warn about entries still waiting (they stay, for this user), and drop the kept pages.
  document.addEventListener("submit", (event) => {
    if (!event.target.matches("[data-sign-out]")) return;
    if (known.length && !window.confirm(fill(texts().sign_out, {n: known.length}))) {
      event.preventDefault();
      return;
    }
    forgetPages();
  });

  function forgetPages() {
    const controller = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (controller) controller.postMessage({type: "forget"});
  }

  function onPage() {
    if (!supported()) return;
    if (!user()) {
      forgetPages();  // signed out (or the session ended): nobody's customers stay on the phone
      return;
    }
    showOfflineNote();
    refresh();
    setTimeout(warm, 1500);
  }

  document.addEventListener("DOMContentLoaded", () => {
    onPage();
    if (!user() || !supported()) return;
    keepStorage();
    offerUpdates();
    send(false);
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target === document.body) onPage();
    if (event.detail.target === app().sheetBody()) refresh();
  });
  window.addEventListener("online", () => send(false));
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && send(false));
})();
