// The console's own small script: live parts refresh themselves, the service form prices as you type.
"use strict";
(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  // Parts marked data-live="URL" are re-fetched every few seconds and swapped in place.
  document.querySelectorAll("[data-live]").forEach((part) => {
    const refresh = async () => {
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
      setTimeout(refresh, 2000);
    };
    setTimeout(refresh, 2000);
  });

  // The service form: show the parts of the chosen service and customer, and price the job.
  const form = document.getElementById("service-form");
  if (!form) return;
  const show = () => {
    const kind = (form.querySelector('input[name="kind"]:checked') || {}).value;
    const customer = (form.querySelector('input[name="customer"]:checked') || {}).value;
    form.querySelectorAll("[data-when-kind]").forEach((el) => { el.hidden = !el.dataset.whenKind.split(" ").includes(kind); });
    form.querySelectorAll("[data-when-customer]").forEach((el) => { el.hidden = el.dataset.whenCustomer !== customer; });
  };
  const box = document.getElementById("quote");
  const total = box.querySelector("[data-quote-total]");
  const explain = box.querySelector("[data-quote-explain]");
  let timer = null, asked = 0;
  const price = async () => {
    const fields = Object.fromEntries(new FormData(form).entries());
    delete fields.csrftoken;
    const mine = ++asked;
    const answer = await fetch(form.dataset.quote, {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrftoken": csrf() }, body: JSON.stringify(fields),
    });
    if (mine !== asked) return;  // a later keystroke already asked again
    const result = await answer.json().catch(() => ({}));
    form.querySelectorAll("[data-error-for]").forEach((el) => { if (el.dataset.live) el.textContent = ""; });
    box.classList.toggle("refused", !answer.ok);
    if (!answer.ok) {
      total.textContent = "";
      explain.textContent = result.error || "";
      const beside = result.field && form.querySelector(`[data-error-for="${result.field}"]`);
      if (beside) { beside.textContent = result.error; beside.dataset.live = "1"; }
      form.elements.quoted_total.value = "";
      return;
    }
    total.textContent = result.total_text || "";
    explain.textContent = result.explain || "";
    form.elements.quoted_total.value = result.total || "";
  };
  form.addEventListener("input", () => { show(); clearTimeout(timer); timer = setTimeout(price, 250); });
  form.addEventListener("change", show);
  // Picking a tenant from the list fills in the room when the roster knows only one.
  form.elements.company && form.elements.company.addEventListener("input", () => {
    const option = [...document.querySelectorAll("#tenants option")].find((o) => o.value === form.elements.company.value);
    if (option && option.dataset.rooms && !option.dataset.rooms.includes(",") && !form.elements.room.value) {
      form.elements.room.value = option.dataset.rooms;
    }
  });
  show();
  price();
})();
