/* CarBot Werkstatt – web chat loader, served by the hosted API as /widget.js.
 *
 * The workshop pastes one tag into its website:
 *   <script src="https://API/widget.js" data-location-key="wk_..." async></script>
 * Optional: data-color="#1f6feb" (launcher colour; neutral default otherwise).
 *
 * Until the visitor clicks the launcher this script makes no request and stores nothing: it only draws a
 * button. The chat itself runs in an iframe on the API's origin (isolated from the host page's CSS, JS and
 * storage). postMessage is used only for open/close/unread, and only with the iframe's exact origin.
 * Styles are set through the CSSOM (element.style), which host pages' CSP allows.
 */
(() => {
  'use strict';
  if (window.__carbotChat) return;
  window.__carbotChat = true;

  const script =
    document.currentScript || document.querySelector('script[data-location-key][src*="widget.js"]');
  if (!script) return;
  const key = script.getAttribute('data-location-key') || '';
  if (!/^[\w-]{8,80}$/.test(key)) return;
  const api = new URL(script.src, location.href).origin;

  const LABELS = /*TEXTS*/{
    "de": {"open": "Chat öffnen", "close": "Chat schließen", "unread": "{n} neue Nachrichten", "title": "Chat mit der Werkstatt"},
    "en": {"open": "Open chat", "close": "Close chat", "unread": "{n} new messages", "title": "Chat with the workshop"},
    "tr": {"open": "Sohbeti aç", "close": "Sohbeti kapat", "unread": "{n} yeni mesaj", "title": "Atölye ile sohbet"},
    "pl": {"open": "Otwórz czat", "close": "Zamknij czat", "unread": "Nowe wiadomości: {n}", "title": "Czat z warsztatem"}
  }/*END*/;
  const browserLang = String(navigator.language || 'de');
  const L = LABELS[browserLang.slice(0, 2).toLowerCase()] || LABELS.de;
  const colour = /^#[0-9a-f]{3,8}$/i.test(script.getAttribute('data-color') || '')
    ? script.getAttribute('data-color')
    : '#1f6feb';
  const narrow = window.matchMedia('(max-width: 479px)');
  const Z = '2147483000';

  let frame = null;
  let ready = false; // the frame posted 'ready': before that its window is still about:blank
  let isOpen = false;
  let unread = 0;

  const css = (node, props) => {
    for (const [name, value] of Object.entries(props)) node.style.setProperty(name, value, 'important');
  };

  const svg = (paths) => {
    const ns = 'http://www.w3.org/2000/svg';
    const icon = document.createElementNS(ns, 'svg');
    icon.setAttribute('viewBox', '0 0 24 24');
    icon.setAttribute('width', '26');
    icon.setAttribute('height', '26');
    icon.setAttribute('aria-hidden', 'true');
    icon.setAttribute('focusable', 'false');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', paths);
    path.setAttribute('fill', 'currentColor');
    icon.appendChild(path);
    return icon;
  };
  const chatIcon = svg('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z');
  const closeIcon = svg(
    'M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z'
  );

  const button = document.createElement('button');
  button.type = 'button';
  button.setAttribute('data-carbot', 'launcher');
  button.setAttribute('aria-expanded', 'false');
  css(button, {
    all: 'initial',
    position: 'fixed',
    right: '20px',
    bottom: '20px',
    width: '56px',
    height: '56px',
    'border-radius': '50%',
    background: colour,
    color: '#fff',
    display: 'flex',
    'align-items': 'center',
    'justify-content': 'center',
    cursor: 'pointer',
    'box-shadow': '0 4px 14px rgba(0,0,0,.25)',
    'z-index': Z,
  });
  const badge = document.createElement('span');
  badge.setAttribute('aria-hidden', 'true');
  css(badge, {
    all: 'initial',
    position: 'absolute',
    top: '-2px',
    right: '-2px',
    'min-width': '20px',
    height: '20px',
    padding: '0 5px',
    'box-sizing': 'border-box',
    'border-radius': '10px',
    background: '#d1242f',
    color: '#fff',
    font: 'bold 12px/20px system-ui, sans-serif',
    'text-align': 'center',
    display: 'none',
  });
  button.append(chatIcon, badge);

  const label = () => {
    let text = isOpen ? L.close : L.open;
    if (unread && !isOpen) text += ' – ' + L.unread.replace('{n}', String(unread));
    button.setAttribute('aria-label', text);
    button.title = text;
  };

  const layout = () => {
    if (!frame) return;
    const phone = narrow.matches;
    css(frame, {
      display: isOpen ? 'block' : 'none',
      position: 'fixed',
      border: '0',
      margin: '0',
      padding: '0',
      background: '#fff',
      'z-index': Z,
      'color-scheme': 'normal',
      'max-width': '100vw',
      'max-height': phone ? '100%' : 'calc(100% - 110px)',
      right: phone ? '0' : '20px',
      bottom: phone ? '0' : '90px',
      top: phone ? '0' : 'auto',
      left: phone ? '0' : 'auto',
      width: phone ? '100%' : '380px',
      height: phone ? '100%' : '600px',
      'border-radius': phone ? '0' : '12px',
      'box-shadow': phone ? 'none' : '0 8px 30px rgba(0,0,0,.25)',
    });
    // Full screen on phones: the frame's own close button replaces the launcher.
    css(button, { display: isOpen && phone ? 'none' : 'flex' });
  };

  const tell = (type) => {
    if (ready && frame.contentWindow) frame.contentWindow.postMessage({ carbot: 1, type }, api);
  };

  const create = () => {
    const params = new URLSearchParams({ key, lang: browserLang, origin: location.origin });
    frame = document.createElement('iframe');
    frame.src = api + '/widget/frame?' + params.toString();
    frame.title = L.title;
    frame.setAttribute('data-carbot', 'frame');
    frame.referrerPolicy = 'origin'; // the API checks the embedding site against the key's allowed domains
    document.body.appendChild(frame);
  };

  const setOpen = (open) => {
    isOpen = open;
    if (open && !frame) create();
    if (open) unread = 0;
    button.replaceChildren(open ? closeIcon : chatIcon, badge);
    button.setAttribute('aria-expanded', String(open));
    css(badge, { display: unread && !open ? 'block' : 'none' });
    badge.textContent = String(unread);
    label();
    layout();
    tell(open ? 'open' : 'hidden');
    if (!open) button.focus();
  };

  button.addEventListener('click', () => setOpen(!isOpen));
  narrow.addEventListener('change', layout);

  window.addEventListener('message', (event) => {
    if (!frame || event.source !== frame.contentWindow || event.origin !== api) return;
    const data = event.data;
    if (!data || data.carbot !== 1) return;
    if (data.type === 'ready') {
      ready = true;
      if (/^#[0-9a-f]{3,8}$/i.test(data.color || '') && !script.getAttribute('data-color')) {
        css(button, { background: data.color }); // the workshop's branding colour, once known
      }
      tell(isOpen ? 'open' : 'hidden');
    }
    if (data.type === 'close') setOpen(false);
    if (data.type === 'unread') {
      unread = isOpen ? 0 : Math.max(0, Math.min(99, Number(data.count) || 0));
      badge.textContent = String(unread);
      css(badge, { display: unread ? 'block' : 'none' });
      label();
    }
  });

  const mount = () => {
    label();
    document.body.appendChild(button);
  };
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
