// One alert, as an incident page: what happened and how bad, the rule with its description and MITRE
// technique, the entities it involves (each linking to its own page), the evidence as a table, the changes
// it stands on with where they came from, its sessions' timeline around it, and acknowledging it.

import { ackControls } from './ack-form.js';
import { getJson } from './api.js';
import { el, setTitle } from './dom.js';
import { entityLink } from './entity-links.js';
import { renderTable, tableCell } from './render-table.js';
import { formatTime, plainText } from './time-format.js';

const KIND_LABELS = { role: 'Roles', session: 'Sessions', client: 'Client addresses', setting: 'Settings', server: 'Server', application: 'Applications', database: 'Databases' };
const CHANGE_LINKS = { session_id: 'session', client_addr: 'client', actor: 'role', acting_role: 'role', role_name: 'role', granted_role: 'role', grantee: 'role' };
const TIMELINE_LINKS = { session_id: 'session', client_addr: 'client', user_name: 'role' };
/** Evidence keys (camelCase, as the rules write them) that name something with a page. */
const EVIDENCE_LINKS = { sessionId: 'session', clientAddr: 'client', actor: 'role', actingRole: 'role', roleName: 'role', grantee: 'role', grantedRole: 'role' };

export async function renderAlertPage(list, id) {
  const page = await getJson(`/api/alerts/${encodeURIComponent(id)}`);
  const { alert, rule } = page;
  setTitle(`Alert ${alert.alert_id}: ${alert.summary}`, '');
  document.getElementById('pickers').hidden = true;
  const container = document.getElementById('panels');
  container.classList.add('alert-page');
  container.append(
    card('summary', 'Summary', 'full', summaryOf(alert)),
    card('rule', `Rule: ${rule.title}`, 'half', ruleOf(rule)),
    card('entities', 'Entities', 'half', entitiesOf(page.entities)),
    card('evidence', 'Evidence', 'full', evidenceOf(page.evidence, alert)),
    card('changes', 'Changes it stands on, and where they came from', 'full', tableOf(page.changes, CHANGE_LINKS, alert, 'No privilege changes stand behind this alert (it counts events, such as failed logins).')),
    card('timeline', `Timeline, ${formatTime(page.window.from)} to ${formatTime(page.window.to)}`, 'full', timelineOf(page.timeline, alert)),
    card('acknowledge', 'Acknowledge', 'full', acknowledgeOf(alert, list)),
  );
}

function card(id, title, width, body) {
  const section = el('section', { className: `panel ${width}`, id: `alert-${id}` });
  section.append(el('div', { className: 'panel-head', children: [el('h2', { text: title })] }), body);
  return section;
}

function summaryOf(alert) {
  const fields = [
    ['severity', el('span', { className: `badge sev-${alert.severity}`, text: alert.severity, id: 'alert-severity' })],
    ['status', el('span', { text: alert.status, id: 'alert-status' })],
    ['summary', el('span', { text: alert.summary, id: 'summary-text' })],
    ['server', entityLink('server', alert.server, alert)],
    ['actor', alert.actor ? entityLink('role', alert.actor, alert) : el('span', { text: '–' })],
    ['target', el('span', { text: alert.target ?? '–' })],
    ['first seen', el('span', { text: formatTime(alert.first_seen) })],
    ['last seen', el('span', { text: formatTime(alert.last_seen) })],
    ['count', el('span', { text: String(alert.count) })],
  ];
  const list = el('dl', { className: 'fields' });
  for (const [name, value] of fields) list.append(el('dt', { text: name }), el('dd', { children: [value] }));
  return list;
}

function ruleOf(rule) {
  const body = el('div', { className: 'rule' });
  body.append(el('p', { text: rule.description, id: 'rule-description' }));
  if (rule.trigger) body.append(el('p', { className: 'panel-description', text: `Raised when: ${rule.trigger}` }));
  const mitre = rule.mitre
    ? rule.mitre.url
      ? el('a', { href: rule.mitre.url, text: rule.mitre.technique, id: 'mitre-link', target: '_blank', rel: 'noopener noreferrer' })
      : el('span', { text: rule.mitre.technique })
    : el('span', { text: 'none' });
  body.append(el('p', { children: [el('strong', { text: 'MITRE ATT&CK: ' }), mitre] }), el('p', { className: 'panel-description', text: `rule id: ${rule.id}` }));
  return body;
}

function entitiesOf(entities) {
  const body = el('dl', { className: 'fields entities' });
  const byKind = new Map();
  for (const e of entities) {
    if (!byKind.has(e.kind)) byKind.set(e.kind, []);
    byKind.get(e.kind).push(e);
  }
  for (const [kind, items] of byKind) {
    const dd = el('dd');
    dd.dataset.kind = kind;
    for (const e of items) {
      const node = KIND_LABELS[kind] && !['application', 'database'].includes(kind) ? entityLink(kind, e.value, { server: e.server }) : el('span', { text: e.value });
      dd.append(el('span', { className: 'chip', children: [node] }));
    }
    body.append(el('dt', { text: KIND_LABELS[kind] || kind }), dd);
  }
  return body;
}

/** One row per evidence sample, one column per key: the way an analyst reads it, not JSON in a cell. */
function evidenceOf(evidence, alert) {
  const body = el('div');
  // Keys no sample fills say nothing; one sample reads best as field/value rows.
  const columns = [...new Set(evidence.samples.flatMap((s) => Object.keys(s)))].filter((c) => evidence.samples.some((s) => s[c] !== null && s[c] !== undefined));
  if (columns.length === 0) body.append(el('p', { className: 'empty', text: 'No evidence was recorded.' }));
  else if (evidence.samples.length === 1) {
    const sample = { ...evidence.samples[0], server: alert.server };
    const table = el('table', { id: 'evidence-table', className: 'evidence-one' });
    table.append(el('thead', { children: [el('tr', { children: [el('th', { text: 'field' }), el('th', { text: 'value' })] })] }));
    const tbody = el('tbody');
    for (const c of columns) {
      const value = tableCell(EVIDENCE_LINKS, c, sample);
      value.classList.add('wide');
      tbody.append(el('tr', { children: [el('th', { text: c, scope: 'row' }), value] }));
    }
    table.append(tbody);
    body.append(el('div', { className: 'table-wrap', children: [table] }));
  } else {
    const table = el('table', { id: 'evidence-table' });
    table.append(el('thead', { children: [el('tr', { children: columns.map((c) => el('th', { text: c })) })] }));
    const tbody = el('tbody');
    for (const sample of evidence.samples) {
      const row = { ...sample, server: alert.server };
      tbody.append(el('tr', { children: columns.map((c) => tableCell(EVIDENCE_LINKS, c, row)) }));
    }
    table.append(tbody);
    body.append(el('div', { className: 'table-wrap', children: [table] }));
  }
  const other = Object.entries(evidence.other).filter(([, v]) => v !== null && v !== 0);
  if (other.length > 0) body.append(el('p', { className: 'panel-description', text: other.map(([k, v]) => `${k}: ${plainText(v)}`).join(' · ') }));
  return body;
}

function tableOf(rows, links, alert, empty) {
  const body = el('div', { className: 'panel-body' });
  if (rows.length === 0) return body.append(el('p', { className: 'empty', text: empty })), body;
  const columns = Object.keys(rows[0]);
  renderTable(body, { links }, { columns, rows: rows.map((r) => ({ server: alert.server, ...r })) }, {});
  return body;
}

function timelineOf(rows, alert) {
  const body = tableOf(rows.map(({ in_alert, ...r }) => r), TIMELINE_LINKS, alert, 'Nothing else from its sessions or addresses in this window.');
  // The statements the alert stands on, picked out of their session.
  const trs = body.querySelectorAll('tbody tr');
  rows.forEach((r, i) => r.in_alert && trs[i]?.classList.add('in-alert'));
  body.querySelector('table')?.setAttribute('id', 'timeline-table');
  return body;
}

function acknowledgeOf(alert, list) {
  if (alert.status !== 'open') {
    const parts = [`${alert.status}`];
    if (alert.acknowledged_by) parts.push(`by ${alert.acknowledged_by}`);
    if (alert.acknowledged_at) parts.push(`at ${formatTime(alert.acknowledged_at)}`);
    const list = el('dl', { className: 'fields', id: 'ack-record' });
    list.append(el('dt', { text: 'status' }), el('dd', { text: parts.join(' '), id: 'ack-status' }));
    list.append(el('dt', { text: 'classification' }), el('dd', { text: alert.ack_classification ?? '–', id: 'ack-classification-shown' }));
    list.append(el('dt', { text: 'comment' }), el('dd', { text: alert.ack_comment ?? '–', id: 'ack-comment-shown' }));
    return list;
  }
  return ackControls({ list, ids: () => [alert.alert_id], label: 'Acknowledge this alert' });
}
