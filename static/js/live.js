// Refresh an element's content in place from its data-live-url every few seconds,
// so status changes pushed by chargers show without a page reload.
(function () {
  const el = document.getElementById("live");
  if (!el) return;
  const url = el.dataset.liveUrl;
  const every = parseInt(el.dataset.liveSeconds || "5", 10) * 1000;
  async function refresh() {
    if (document.hidden) return;
    try {
      const response = await fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" });
      if (response.ok) el.innerHTML = await response.text();
    } catch (e) { /* offline for a moment: try again next tick */ }
  }
  setInterval(refresh, every);
})();
