import type { Page } from 'playwright-core';

/**
 * An accessibility audit of the rules the dashboard promises, run inside the page (no network, no
 * third-party engine): accessible names for controls, progressbar and canvas semantics, live regions,
 * sortable headers, text of at least 14 px, and WCAG 2.x contrast of at least 4.5:1 for visible text.
 * Returns one sentence per violation.
 */
export function auditAccessibility(page: Page): Promise<string[]> {
  return page.evaluate(AUDIT_SOURCE) as Promise<string[]>;
}

const AUDIT_SOURCE = `(() => {
  const problems = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el); return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !el.closest('[hidden]'); };
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + String(el.className).split(' ')[0] : '');
  const nameOf = (el) => {
    if (el.getAttribute('aria-labelledby')) return el.getAttribute('aria-labelledby').split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
    if (el.getAttribute('aria-label')) return el.getAttribute('aria-label').trim();
    if (el.labels && el.labels.length) return [...el.labels].map((l) => l.textContent).join(' ').trim();
    return (el.textContent ?? '').trim();
  };
  if (!document.documentElement.lang) problems.push('html has no lang');
  const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
  for (const id of new Set(ids)) if (ids.indexOf(id) !== ids.lastIndexOf(id)) problems.push('duplicate id ' + id);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const labelled = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!labelled || !nameOf(el)) problems.push(describe(el) + ' has no label');
  }
  for (const el of document.querySelectorAll('button, summary, a[href]')) if (!nameOf(el)) problems.push(describe(el) + ' has no accessible name');
  for (const el of document.querySelectorAll('[role="progressbar"]')) {
    if (!nameOf(el)) problems.push(describe(el) + ' progressbar has no name');
    if (el.getAttribute('aria-valuemin') !== '0' || el.getAttribute('aria-valuemax') !== '100') problems.push(describe(el) + ' progressbar lacks aria-valuemin/max');
    const now = el.getAttribute('aria-valuenow');
    if (now === null ? !el.getAttribute('aria-valuetext') : !(Number(now) >= 0 && Number(now) <= 100)) problems.push(describe(el) + ' progressbar aria-valuenow ' + now + ' is not 0-100');
  }
  for (const el of document.querySelectorAll('canvas')) if (el.getAttribute('role') !== 'img' || !el.getAttribute('aria-label')) problems.push(describe(el) + ' canvas lacks role=img and aria-label');
  const status = document.getElementById('connection');
  if (!status || status.getAttribute('aria-live') !== 'polite' || status.getAttribute('role') !== 'status') problems.push('connection state is not an aria-live status');
  for (const th of document.querySelectorAll('th')) {
    if (th.getAttribute('scope') !== 'col') problems.push('a column header lacks scope=col');
    if (th.querySelector('button') && !th.hasAttribute('aria-sort')) problems.push('a sortable header lacks aria-sort');
  }
  const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
  const parse = (css) => { const m = css.match(/[\\d.]+/g) || []; return m.map(Number); };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll('body *')) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!ownText || !visible(el) || el.closest('.visually-hidden, .skip')) continue;
    const style = getComputedStyle(el);
    if (parseFloat(style.fontSize) < 14) problems.push(describe(el) + ' text is ' + style.fontSize);
    const fg = luminance(parse(style.color).slice(0, 3));
    const bg = luminance(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) problems.push(describe(el) + ' "' + el.textContent.trim().slice(0, 30) + '" contrast ' + ratio.toFixed(2) + ':1');
  }
  return problems;
})()`;
