// The portal's only script (CSP: 'self'): the live panel, its hourly chart, the customers' search.
"use strict";

const POLL_MS = 5000;
const SVG = "http://www.w3.org/2000/svg";
const count = new Intl.NumberFormat("pt-BR");

function svgElement(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

// 24 bars, one per hour of the day; the tooltip (title) gives the exact figure.
function drawChart(container, hours) {
  const byHour = new Map(hours.map((h) => [h.hour, h.notifications]));
  const width = 960, height = 240, left = 4, bottom = 22, top = 8;
  const barWidth = (width - left) / 24;
  const highest = Math.max(1, ...byHour.values());
  const svg = svgElement("svg", {
    viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", "aria-hidden": "true",
  });
  svg.appendChild(svgElement("line", { class: "axis", x1: left, x2: width, y1: height - bottom, y2: height - bottom }));
  for (let hour = 0; hour < 24; hour++) {
    const value = byHour.get(hour) || 0;
    const barHeight = ((height - bottom - top) * value) / highest;
    const bar = svgElement("rect", {
      class: "bar", x: left + hour * barWidth + 1, width: barWidth - 2,
      y: height - bottom - barHeight, height: barHeight,
    });
    const title = svgElement("title", {});
    title.textContent = `${String(hour).padStart(2, "0")}h: ${count.format(value)}`;
    bar.appendChild(title);
    svg.appendChild(bar);
    if (hour % 3 === 0) {
      const label = svgElement("text", { x: left + hour * barWidth + 1, y: height - 4 });
      label.textContent = `${String(hour).padStart(2, "0")}h`;
      svg.appendChild(label);
    }
  }
  container.querySelector("svg")?.remove();
  container.prepend(svg);
  container.classList.add("drawn");
}

function hoursFromTable(container) {
  return Array.from(container.querySelectorAll("td[data-hour]"), (cell) => ({
    hour: Number(cell.dataset.hour), notifications: Number(cell.dataset.count),
  }));
}

function livePanel(panel) {
  const chart = document.getElementById("chart");
  drawChart(chart, hoursFromTable(chart));
  const live = document.getElementById("live");
  async function refresh() {
    try {
      const response = await fetch(panel.dataset.api, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.json();
      document.getElementById("count").textContent = count.format(data.whatsapp_notifications);
      document.getElementById("updated").textContent = data.last_updated_at;
      drawChart(chart, data.hours);
      panel.dataset.refreshed = String(Date.now());
      live?.classList.remove("stale");
    } catch (error) {
      live?.classList.add("stale");
    }
  }
  setInterval(refresh, POLL_MS);
}

function searchCustomers(input) {
  const rows = Array.from(document.querySelectorAll("#customers tbody tr[data-search]"));
  const shown = document.getElementById("shown");
  input.addEventListener("input", () => {
    const needle = input.value.trim().toLowerCase();
    let visible = 0;
    for (const row of rows) {
      row.hidden = needle !== "" && !row.dataset.search.includes(needle);
      if (!row.hidden) visible++;
    }
    if (shown) shown.textContent = String(visible);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const panel = document.getElementById("panel");
  if (panel) livePanel(panel);
  const search = document.getElementById("search");
  if (search) searchCustomers(search);
});
