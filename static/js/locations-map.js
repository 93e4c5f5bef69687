// Locations on a Leaflet map, one circle per location coloured by what a driver finds
// there now. Without tiles (offline, blocked) the markers still show on a plain background.
(function () {
  const el = document.getElementById("map");
  const data = document.getElementById("map-markers");
  if (!el || !data || typeof L === "undefined") return;
  const markers = JSON.parse(data.textContent);
  const colours = { available: "#0e9f6e", charging: "#1c64f2", faulted: "#e02424", offline: "#9ca3af", empty: "#d1d5db" };
  const map = L.map(el, { scrollWheelZoom: false });
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: "© OpenStreetMap contributors" }).addTo(map);
  }
  const bounds = [];
  markers.forEach(function (m) {
    const circle = L.circleMarker([m.lat, m.lng], {
      radius: 9, weight: 2, color: "#fff", fillColor: colours[m.status] || "#9ca3af", fillOpacity: 0.95,
    }).addTo(map);
    const link = document.createElement("a");
    link.href = m.url;
    link.textContent = m.name;
    const box = document.createElement("div");
    box.appendChild(link);
    box.appendChild(document.createElement("br"));
    box.appendChild(document.createTextNode(m.available + " free · " + m.chargers + " chargers"));
    circle.bindPopup(box);
    circle.getElement && circle.getElement()?.setAttribute("data-location", m.id);
    bounds.push([m.lat, m.lng]);
  });
  if (bounds.length) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 14 });
  else map.setView([50.1, 9.7], 4);
})();
