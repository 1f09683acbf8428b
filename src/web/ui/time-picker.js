// The pickers above a dashboard: a relative range or an absolute From/To (UTC), the server, the
// dashboard's own inputs, Apply and Zoom out. The range is checked once for the page (/api/time-range):
// a bad time is one message here, not an error in every panel.

import { el, labelled } from './dom.js';
import { ALL_TIME, formatTime, fromInputValue, toInputValue, ZONE } from './time-format.js';

const RANGE_CHOICES = [
  ['1 hour', 'last hour'],
  ['24 hours', 'last 24 hours'],
  ['7 days', 'last 7 days'],
  ['30 days', 'last 30 days'],
  ['90 days', 'last 90 days'],
  ['365 days', 'last year'],
  [ALL_TIME, 'all time'],
];
const CUSTOM = 'custom';

export function rangeLabel(since) {
  return RANGE_CHOICES.find(([v]) => v === since)?.[1] ?? (since ? `from ${since}` : "each query's default");
}

/** Draws the pickers into #pickers; returns handles to show the resolved range and a bad time. */
export async function renderPickers({ params, values, servers, extra = [] }) {
  const form = document.getElementById('pickers');
  const range = el('select', { name: 'range', id: 'pick-range' });
  const relative = RANGE_CHOICES.some(([v]) => v === values.since) && !values.until;
  const choices = values.since ? [...RANGE_CHOICES] : [['', "each query's default"], ...RANGE_CHOICES];
  for (const [value, label] of choices) range.append(el('option', { value, text: label, selected: relative && value === values.since }));
  range.append(el('option', { value: CUSTOM, text: 'custom (From/To)', selected: Boolean(values.since) && !relative }));
  if (!values.since) range.value = '';
  const since = el('input', { type: 'datetime-local', step: '1', name: 'since-at', id: 'pick-since', 'aria-label': `From (${ZONE})` });
  const until = el('input', { type: 'datetime-local', step: '1', name: 'until-at', id: 'pick-until', 'aria-label': `To (${ZONE})` });
  // A duration or a time the inputs cannot hold stays as typed until Apply.
  since.dataset.typed = values.since || '';
  until.dataset.typed = values.until || '';
  for (const input of [since, until]) input.addEventListener('input', () => (range.value = CUSTOM));
  form.append(labelled('Range', range), labelled(`From (${ZONE})`, since), labelled(`To (${ZONE}, blank: now)`, until));

  const hasServerParam = params.some((p) => p.name === 'server');
  if (!hasServerParam) {
    const server = el('select', { name: 'server', id: 'pick-server' });
    server.append(el('option', { value: '', text: 'all servers' }));
    for (const s of servers.list) server.append(el('option', { value: s, text: s, selected: s === values.server }));
    if (servers.error) server.append(el('option', { value: '', text: `(servers unavailable: ${servers.error})` }));
    form.append(labelled('Server', server));
  }
  for (const p of params) {
    form.append(labelled(p.label || p.name, el('input', { name: p.name, id: `pick-${p.name}`, value: values[p.name] || '', required: p.required })));
  }
  const zoomOut = el('button', { type: 'button', text: 'Zoom out', id: 'zoom-out', className: 'secondary', title: 'show three times the span, centred on this one' });
  form.append(el('button', { type: 'submit', text: 'Apply' }), zoomOut, ...extra);
  const error = el('div', { className: 'picker-error', id: 'picker-error', role: 'alert', hidden: true });
  form.append(error);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    const choice = range.value;
    if (choice === CUSTOM) {
      const from = since.value ? fromInputValue(since.value) : since.dataset.typed;
      const to = until.value ? fromInputValue(until.value) : '';
      if (from) next.set('since', from);
      if (to) next.set('until', to);
    } else if (choice) {
      next.set('since', choice);
    }
    // Blank inputs stay out of the URL, so the saved queries' own defaults apply.
    for (const [k, v] of new FormData(form)) {
      if (['range', 'since-at', 'until-at'].includes(k)) continue;
      if (String(v).trim() !== '') next.set(k, String(v).trim());
    }
    const keep = new URLSearchParams(location.search).get('refresh');
    if (keep !== null) next.set('refresh', keep);
    location.search = next.toString();
  });

  return {
    /** Fills From/To with the instants the range resolved to, and arms Zoom out. */
    showRange(resolved) {
      since.value = toInputValue(resolved.since);
      until.value = toInputValue(resolved.until);
      since.title = resolved.since ? formatTime(resolved.since) : '';
      zoomOut.disabled = !resolved.since;
      zoomOut.onclick = () => {
        const next = new URLSearchParams(location.search);
        const zoomed = zoomedOut(resolved.since, resolved.until, Date.now());
        next.set('since', zoomed.since);
        if (zoomed.until) next.set('until', zoomed.until);
        else next.delete('until');
        location.search = next.toString();
      };
    },
    showError(message, field) {
      error.textContent = message;
      error.hidden = false;
      const input = field === 'until' ? until : since;
      input.setAttribute('aria-invalid', 'true');
      error.dataset.field = field || '';
    },
  };
}

/** Three times the span around the same middle; an end past now becomes "now" (blank). */
export function zoomedOut(sinceIso, untilIso, now) {
  const start = Date.parse(sinceIso);
  const end = untilIso ? Date.parse(untilIso) : now;
  const span = Math.max(end - start, 1000);
  const newEnd = end + span;
  return { since: new Date(Math.max(0, start - span)).toISOString(), until: newEnd >= now ? '' : new Date(newEnd).toISOString() };
}
