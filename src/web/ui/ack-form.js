// Acknowledging alerts: a comment, a classification (true positive, benign, false positive) and the button.
// Only `auditduck run` can write; under `serve` the controls are disabled and say what works instead.
// Who acknowledged is recorded by the server from how the request authenticated, not sent from here.

import { postJson } from './api.js';
import { el, labelled } from './dom.js';

const CLASSIFICATION_LABELS = { 'true-positive': 'true positive', benign: 'benign (true, but expected)', 'false-positive': 'false positive' };

/** `ids()` says which alerts the button acknowledges when clicked. */
export function ackControls({ list, ids, label }) {
  const bar = el('div', { className: 'ack-bar' });
  const comment = el('input', { type: 'text', className: 'ack-comment', id: 'ack-comment', placeholder: 'what was found, a ticket…', maxlength: '2000' });
  const classification = el('select', { className: 'ack-classification', id: 'ack-classification' });
  classification.append(el('option', { value: '', text: '(not classified)' }));
  for (const c of list.classifications || Object.keys(CLASSIFICATION_LABELS)) classification.append(el('option', { value: c, text: CLASSIFICATION_LABELS[c] || c }));
  const button = el('button', { type: 'button', text: label, id: 'ack-button' });
  const result = el('span', { className: 'ack-result', id: 'ack-result', role: 'status' });
  bar.append(labelled('Comment', comment), labelled('Classification', classification), button);
  if (!list.canAcknowledge) {
    for (const c of [comment, classification, button]) c.disabled = true;
    bar.append(el('span', { className: 'ack-help', id: 'ack-help', text: list.acknowledgeHelp }));
    return bar;
  }
  button.addEventListener('click', async () => {
    const chosen = ids();
    if (chosen.length === 0) return void (result.textContent = 'Select alerts first.');
    button.disabled = true;
    try {
      const answer = await postJson('/api/alerts/acknowledge', {
        ids: chosen,
        comment: comment.value.trim() || null,
        classification: classification.value || null,
      });
      result.textContent = `Acknowledged ${answer.acknowledged.length} alert(s): ${answer.acknowledged.join(', ')}. Reloading…`;
      setTimeout(() => location.reload(), 600);
    } catch (error) {
      result.textContent = `Could not acknowledge: ${error.message}`;
      button.disabled = false;
    }
  });
  bar.append(result);
  return bar;
}
