// Building DOM nodes without a framework: el('a', {href, text}) and a few furniture helpers.

export const SVG_NS = 'http://www.w3.org/2000/svg';

const PROPERTIES = new Set(['className', 'id', 'value', 'href', 'type', 'name', 'title', 'placeholder', 'htmlFor', 'step', 'min', 'max']);

export function el(tag, props = {}) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'children') node.append(...value.filter((c) => c !== null && c !== undefined));
    else if (PROPERTIES.has(key)) node[key] = value;
    else if (typeof value === 'boolean') node[key] = value;
    else node.setAttribute(key, value);
  }
  return node;
}

export function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

export function labelled(text, input) {
  return el('label', { children: [document.createTextNode(text), input] });
}

/** A message above the panels; `children` may hold links. */
export function showNotice(content, id) {
  const notice = el('div', { className: 'notice', id, role: 'status' });
  if (typeof content === 'string') notice.textContent = content;
  else notice.append(...content);
  document.getElementById('notice').append(notice);
  return notice;
}

export function setTitle(title, description = '') {
  document.title = `${title} · auditduck`;
  document.getElementById('title').textContent = title;
  document.getElementById('description').textContent = description;
}
