// Light or dark: the system's choice (prefers-color-scheme) until the toggle picks one, remembered here.

import { el } from './dom.js';

const KEY = 'auditduck-theme';

export function applyStoredTheme() {
  const stored = localStorage.getItem(KEY);
  if (stored === 'dark' || stored === 'light') document.documentElement.dataset.theme = stored;
}

export function currentTheme() {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === 'dark' || chosen === 'light') return chosen;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function themeToggle() {
  const button = el('button', { type: 'button', id: 'theme-toggle', className: 'theme-toggle' });
  const label = () => {
    const next = currentTheme() === 'dark' ? 'light' : 'dark';
    button.textContent = next === 'dark' ? '☾ Dark' : '☀ Light';
    button.title = `switch to the ${next} theme`;
  };
  button.addEventListener('click', () => {
    const next = currentTheme() === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    localStorage.setItem(KEY, next);
    label();
    // Charts take their colours when drawn.
    document.dispatchEvent(new CustomEvent('themechange'));
  });
  label();
  return button;
}
