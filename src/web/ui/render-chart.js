// Bar, stacked-bar and line panels, drawn by Chart.js (window.Chart, served from /ui/vendor/chart.js).
// Rows → datasets: a `series` column pivots into one dataset per value, else one per y column.

import { el } from './dom.js';
import { axisLabel, ISO_TIME, ZONE } from './time-format.js';

const PALETTE = ['#2458c6', '#e8743b', '#19a979', '#ed4a7b', '#945ecf', '#13a4b4', '#bf399e', '#6c8893', '#ee6868', '#f2b134'];
const SEVERITY_COLORS = { critical: '#8b0000', high: '#d9534f', medium: '#f0ad4e', low: '#7f8c8d' };

export function chartRenderer(kind) {
  return (body, panel, result) => renderChart(body, panel, result, kind);
}

function renderChart(body, panel, { columns, rows }, kind) {
  if (rows.length === 0) return body.append(el('p', { className: 'empty', text: 'No data in this range.' }));
  const x = panel.x || columns[0];
  const ys = panel.y ? [].concat(panel.y) : [columns[columns.length - 1]];
  const labels = [...new Set(rows.map((r) => String(r[x])))];
  const index = new Map(labels.map((l, i) => [l, i]));
  let datasets;
  if (panel.series) {
    const bySeries = new Map();
    for (const r of rows) {
      const key = r[panel.series] === null ? '(none)' : String(r[panel.series]);
      if (!bySeries.has(key)) bySeries.set(key, new Array(labels.length).fill(0));
      bySeries.get(key)[index.get(String(r[x]))] += Number(r[ys[0]] ?? 0);
    }
    datasets = [...bySeries].map(([label, data]) => ({ label, data }));
  } else {
    datasets = ys.map((y) => {
      const data = new Array(labels.length).fill(0);
      for (const r of rows) data[index.get(String(r[x]))] += Number(r[y] ?? 0);
      return { label: y, data };
    });
  }
  datasets.forEach((d, i) => {
    const color = SEVERITY_COLORS[d.label] || PALETTE[i % PALETTE.length];
    Object.assign(d, { backgroundColor: color, borderColor: color, tension: 0.2 });
  });
  if (!panel.series && ys.length === 1 && x === 'severity') {
    datasets[0].backgroundColor = labels.map((l) => SEVERITY_COLORS[l] || PALETTE[0]);
  }
  const box = el('div', { className: 'chart-box' });
  const total = datasets.reduce((sum, d) => sum + d.data.reduce((a, b) => a + b, 0), 0);
  box.dataset.total = String(total);
  box.dataset.series = datasets.map((d) => d.label).join(',');
  const canvas = el('canvas', { role: 'img', 'aria-label': panel.title });
  box.append(canvas);
  body.append(box);
  const stacked = kind === 'stacked-bar';
  const overTime = labels.every((l) => ISO_TIME.test(l));
  const ink = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#5c6778';
  new Chart(canvas, {
    type: kind === 'line' ? 'line' : 'bar',
    data: { labels: labels.map(axisLabel), datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      color: ink,
      plugins: { legend: { display: datasets.length > 1 || Boolean(panel.series), position: 'bottom' } },
      scales: {
        x: { stacked, ticks: { color: ink }, title: { display: overTime, text: `time (${ZONE})`, color: ink } },
        y: { stacked, beginAtZero: true, ticks: { precision: 0, color: ink } },
      },
    },
  });
}
