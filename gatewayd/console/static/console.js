// The console's own small script: live parts refresh themselves, forms price and preview as you go.
"use strict";
(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const post = (url, body, json) => fetch(url, {
    method: "POST", credentials: "same-origin", body: json ? JSON.stringify(body) : body,
    headers: json ? { "content-type": "application/json", "x-csrftoken": csrf() } : { "x-csrftoken": csrf() },
  });

  // Parts marked data-live="URL" are re-fetched every data-every seconds (default 2) and swapped
  // in place; not while the tab is hidden (each refresh costs the daemon a page).
  document.querySelectorAll("[data-live]").forEach((part) => {
    const every = 1000 * Number(part.dataset.every || 2);
    const refresh = async () => {
      if (document.visibilityState === "hidden") { setTimeout(refresh, every); return; }
      try {
        const answer = await fetch(part.dataset.live, { credentials: "same-origin" });
        if (answer.ok) {
          const html = await answer.text();
          const fresh = document.createElement("div");
          fresh.innerHTML = html;
          const version = fresh.querySelector("[data-version]");
          if (part.dataset.version && version && version.dataset.version !== part.dataset.version
              && !document.querySelector("form.action input:focus, form.action select:focus")) {
            window.location.reload();  // the ticket moved on: its actions change too
            return;
          }
          if (part.innerHTML !== html) part.innerHTML = html;
        }
      } catch (e) { /* the daemon restarting: try again next time */ }
      setTimeout(refresh, every);
    };
    setTimeout(refresh, every);
  });

  document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));

  // Show the parts of a form that fit the chosen service and customer.
  document.querySelectorAll("form").forEach((form) => {
    const show = () => {
      const kind = (form.querySelector('input[name="kind"]:checked') || form.querySelector('input[name="kind"]') || {}).value;
      const customer = (form.querySelector('input[name="customer"]:checked') || {}).value;
      form.querySelectorAll("[data-when-kind]").forEach((el) => { el.hidden = !el.dataset.whenKind.split(" ").includes(kind); });
      form.querySelectorAll("[data-when-customer]").forEach((el) => { el.hidden = el.dataset.whenCustomer !== customer; });
    };
    form.addEventListener("change", show);
    show();
    // Picking a tenant from the roster fills in the room when the roster knows only one.
    if (form.elements.company && form.elements.room) {
      form.elements.company.addEventListener("input", () => {
        const option = [...document.querySelectorAll("#tenants option")].find((o) => o.value === form.elements.company.value);
        if (option && option.dataset.rooms && !option.dataset.rooms.includes(",") && !form.elements.room.value) {
          form.elements.room.value = option.dataset.rooms;
        }
      });
    }
  });

  // The price before the job: the daemon's quote for what the form says so far.
  document.querySelectorAll("form[data-quote]").forEach((form) => {
    const box = document.getElementById("quote");
    const total = box.querySelector("[data-quote-total]");
    const explain = box.querySelector("[data-quote-explain]");
    let timer = null, asked = 0;
    const price = async () => {
      const fields = Object.fromEntries([...new FormData(form).entries()].filter(([, v]) => typeof v === "string"));
      delete fields.csrftoken;
      const mine = ++asked;
      const answer = await post(form.dataset.quote, fields, true);
      if (mine !== asked) return;  // a later keystroke already asked again
      const result = await answer.json().catch(() => ({}));
      form.querySelectorAll("[data-error-for][data-from-quote]").forEach((el) => { el.textContent = ""; });
      box.classList.toggle("refused", !answer.ok);
      total.textContent = answer.ok ? (result.total_text || "") : "";
      explain.textContent = answer.ok ? (result.explain || "") : (result.error || "");
      if (form.elements.quoted_total) form.elements.quoted_total.value = answer.ok ? (result.total || "") : "";
      const beside = !answer.ok && result.field && form.querySelector(`[data-error-for="${result.field}"]`);
      if (beside) { beside.textContent = result.error; beside.dataset.fromQuote = "1"; }
    };
    form.addEventListener("input", (event) => {
      if (event.target.type === "file") return;
      clearTimeout(timer);
      timer = setTimeout(price, 250);
    });
    price();
  });

  // Forms with files go by fetch with the CSRF token in its header: asgi-csrf 0.11 cannot read it
  // from a multipart body with python-multipart 0.0.2x (FormParser lost FileClass).
  document.querySelectorAll('form[enctype="multipart/form-data"]').forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; });
      const answer = await post(form.action, new FormData(form), false);
      if (answer.redirected) { window.location.assign(answer.url); return; }
      const html = await answer.text();  // the same page again, with the reason beside the field
      document.open();
      document.write(html);
      document.close();
    });
  });

  // Send a fax: the pages as the daemon will fax them, shown as soon as the files are chosen.
  document.querySelectorAll("form[data-preview]").forEach((form) => {
    const out = document.getElementById("preview");
    form.elements.documents.addEventListener("change", async () => {
      const data = new FormData();
      [...form.elements.documents.files].forEach((file) => data.append("documents", file, file.name));
      out.setAttribute("aria-busy", "true");
      const answer = await post(form.dataset.preview, data, false);
      out.innerHTML = await answer.text();
      out.removeAttribute("aria-busy");
    });
  });
})();
