/* CarBot Werkstatt – the chat inside the widget's iframe (served as /widget/frame.js).
 *
 * Rules this file keeps:
 * - Nothing is sent to the server and nothing is stored (not even sessionStorage) before the visitor
 *   presses "Zustimmen und Chat starten".
 * - Message text only ever reaches the page through textContent; links are not turned into HTML.
 * - Transport as in sync/protocol_chat.py: REST up (Bearer visitor token), SSE down; after every
 *   (re)connect the widget refetches the messages after the last seq it has and merges them by seq.
 */
(() => {
  'use strict';

  const TEXTS = /*TEXTS*/{
    "de": {
      "language": "Sprache", "close": "Chat schließen", "consentTitle": "Bevor es losgeht",
      "consentText": "Für den Chat verarbeiten wir Ihre Nachrichten und, wenn Sie sie angeben, Ihre Kontaktdaten. Zuerst antwortet ein automatischer Assistent; ein Mitarbeiter der Werkstatt kann jederzeit übernehmen. Vor Ihrer Zustimmung wird nichts gesendet oder gespeichert.",
      "privacy": "Datenschutzerklärung", "accept": "Zustimmen und Chat starten", "decline": "Ablehnen",
      "declined": "Sie haben nicht zugestimmt, es wurde nichts gespeichert. Sie erreichen uns auch telefonisch.",
      "back": "Zurück", "messages": "Nachrichten", "suggestions": "Vorschläge", "input": "Ihre Nachricht",
      "send": "Senden", "typing": "Die Werkstatt schreibt …", "human": "Mit einem Menschen sprechen",
      "leadOpen": "Kontaktdaten hinterlassen", "leadTitle": "Ihre Kontaktdaten",
      "leadHint": "Telefon oder E-Mail genügt.", "name": "Name", "phone": "Telefon", "email": "E-Mail",
      "vehicle": "Fahrzeug (z. B. VW Golf, 2015)", "concern": "Anliegen", "preferred": "Wunschtermin",
      "leadSend": "Absenden", "cancel": "Abbrechen", "leadThanks": "Danke! Wir melden uns bei Ihnen.",
      "errContact": "Bitte geben Sie eine Telefonnummer oder eine E-Mail-Adresse an.",
      "errEmail": "Bitte prüfen Sie die E-Mail-Adresse.", "errPhone": "Bitte prüfen Sie die Telefonnummer.",
      "statusBot": "Automatischer Assistent", "statusWaiting": "Ein Mitarbeiter wird benachrichtigt …",
      "statusStaff": "Ein Mitarbeiter hat das Gespräch übernommen.", "statusClosed": "Das Gespräch wurde beendet.",
      "starting": "Chat wird gestartet …", "reconnecting": "Verbindung wird wiederhergestellt …",
      "failed": "Nicht gesendet.", "retry": "Erneut senden",
      "error": "Das hat nicht geklappt. Bitte versuchen Sie es erneut.",
      "you": "Sie", "bot": "Assistent", "staff": "Mitarbeiter", "system": "Hinweis",
      "qrPrice": "Preise", "qrAppointment": "Termin vereinbaren", "qrHours": "Öffnungszeiten",
      "qrCallback": "Rückruf", "charsLeft": "Noch {n} Zeichen", "powered": "Chat von CarBot Werkstatt"
    },
    "en": {
      "language": "Language", "close": "Close chat", "consentTitle": "Before we start",
      "consentText": "For the chat we process your messages and, if you provide them, your contact details. An automated assistant answers first; a member of the workshop's staff can take over at any time. Nothing is sent or stored before you agree.",
      "privacy": "Privacy notice", "accept": "Agree and start chat", "decline": "Decline",
      "declined": "You did not agree, so nothing was stored. You can also reach us by phone.",
      "back": "Back", "messages": "Messages", "suggestions": "Suggestions", "input": "Your message",
      "send": "Send", "typing": "The workshop is typing …", "human": "Talk to a person",
      "leadOpen": "Leave contact details", "leadTitle": "Your contact details",
      "leadHint": "A phone number or an e-mail address is enough.", "name": "Name", "phone": "Phone",
      "email": "E-mail", "vehicle": "Vehicle (e.g. VW Golf, 2015)", "concern": "Your request",
      "preferred": "Preferred time", "leadSend": "Submit", "cancel": "Cancel",
      "leadThanks": "Thank you! We will get back to you.",
      "errContact": "Please enter a phone number or an e-mail address.",
      "errEmail": "Please check the e-mail address.", "errPhone": "Please check the phone number.",
      "statusBot": "Automated assistant", "statusWaiting": "A member of staff is being notified …",
      "statusStaff": "A member of staff has taken over.", "statusClosed": "The conversation has ended.",
      "starting": "Starting the chat …", "reconnecting": "Reconnecting …",
      "failed": "Not sent.", "retry": "Send again", "error": "That did not work. Please try again.",
      "you": "You", "bot": "Assistant", "staff": "Staff", "system": "Notice",
      "qrPrice": "Prices", "qrAppointment": "Book an appointment", "qrHours": "Opening hours",
      "qrCallback": "Call me back", "charsLeft": "{n} characters left", "powered": "Chat by CarBot Werkstatt"
    },
    "tr": {
      "language": "Dil", "close": "Sohbeti kapat", "consentTitle": "Başlamadan önce",
      "consentText": "Sohbet için mesajlarınızı ve verirseniz iletişim bilgilerinizi işliyoruz. Önce otomatik bir asistan yanıt verir; atölyeden bir çalışan istediği zaman sohbeti devralabilir. Onayınızdan önce hiçbir şey gönderilmez veya saklanmaz.",
      "privacy": "Gizlilik bildirimi", "accept": "Kabul et ve sohbete başla", "decline": "Reddet",
      "declined": "Onay vermediniz, hiçbir şey saklanmadı. Bize telefonla da ulaşabilirsiniz.",
      "back": "Geri", "messages": "Mesajlar", "suggestions": "Öneriler", "input": "Mesajınız",
      "send": "Gönder", "typing": "Atölye yazıyor …", "human": "Bir çalışanla konuş",
      "leadOpen": "İletişim bilgilerini bırak", "leadTitle": "İletişim bilgileriniz",
      "leadHint": "Telefon veya e-posta yeterli.", "name": "Ad Soyad", "phone": "Telefon", "email": "E-posta",
      "vehicle": "Araç (ör. VW Golf, 2015)", "concern": "Talebiniz", "preferred": "Tercih edilen zaman",
      "leadSend": "Gönder", "cancel": "İptal", "leadThanks": "Teşekkürler! Size geri döneceğiz.",
      "errContact": "Lütfen bir telefon numarası veya e-posta adresi girin.",
      "errEmail": "Lütfen e-posta adresini kontrol edin.", "errPhone": "Lütfen telefon numarasını kontrol edin.",
      "statusBot": "Otomatik asistan", "statusWaiting": "Bir çalışana haber veriliyor …",
      "statusStaff": "Bir çalışan sohbeti devraldı.", "statusClosed": "Sohbet sona erdi.",
      "starting": "Sohbet başlatılıyor …", "reconnecting": "Bağlantı yeniden kuruluyor …",
      "failed": "Gönderilemedi.", "retry": "Tekrar gönder", "error": "Bu işlem başarısız oldu. Lütfen tekrar deneyin.",
      "you": "Siz", "bot": "Asistan", "staff": "Çalışan", "system": "Bilgi",
      "qrPrice": "Fiyatlar", "qrAppointment": "Randevu al", "qrHours": "Çalışma saatleri",
      "qrCallback": "Beni geri arayın", "charsLeft": "{n} karakter kaldı", "powered": "Sohbet: CarBot Werkstatt"
    },
    "pl": {
      "language": "Język", "close": "Zamknij czat", "consentTitle": "Zanim zaczniemy",
      "consentText": "Na potrzeby czatu przetwarzamy Twoje wiadomości oraz, jeśli je podasz, Twoje dane kontaktowe. Najpierw odpowiada automatyczny asystent; pracownik warsztatu może w każdej chwili przejąć rozmowę. Przed wyrażeniem zgody nic nie jest wysyłane ani zapisywane.",
      "privacy": "Informacja o ochronie danych", "accept": "Zgadzam się i rozpoczynam czat", "decline": "Odrzuć",
      "declined": "Nie wyrażono zgody, nic nie zostało zapisane. Możesz też do nas zadzwonić.",
      "back": "Wstecz", "messages": "Wiadomości", "suggestions": "Propozycje", "input": "Twoja wiadomość",
      "send": "Wyślij", "typing": "Warsztat pisze …", "human": "Porozmawiaj z człowiekiem",
      "leadOpen": "Zostaw dane kontaktowe", "leadTitle": "Twoje dane kontaktowe",
      "leadHint": "Wystarczy telefon lub e-mail.", "name": "Imię i nazwisko", "phone": "Telefon", "email": "E-mail",
      "vehicle": "Pojazd (np. VW Golf, 2015)", "concern": "Sprawa", "preferred": "Preferowany termin",
      "leadSend": "Wyślij", "cancel": "Anuluj", "leadThanks": "Dziękujemy! Skontaktujemy się z Tobą.",
      "errContact": "Podaj numer telefonu lub adres e-mail.",
      "errEmail": "Sprawdź adres e-mail.", "errPhone": "Sprawdź numer telefonu.",
      "statusBot": "Automatyczny asystent", "statusWaiting": "Powiadamiamy pracownika …",
      "statusStaff": "Pracownik przejął rozmowę.", "statusClosed": "Rozmowa została zakończona.",
      "starting": "Uruchamianie czatu …", "reconnecting": "Ponowne łączenie …",
      "failed": "Nie wysłano.", "retry": "Wyślij ponownie", "error": "Nie udało się. Spróbuj ponownie.",
      "you": "Ty", "bot": "Asystent", "staff": "Pracownik", "system": "Informacja",
      "qrPrice": "Ceny", "qrAppointment": "Umów wizytę", "qrHours": "Godziny otwarcia",
      "qrCallback": "Oddzwońcie do mnie", "charsLeft": "Pozostało znaków: {n}", "powered": "Czat: CarBot Werkstatt"
    }
  }/*END*/;
  const LANG_NAMES = { de: 'Deutsch', en: 'English', tr: 'Türkçe', pl: 'Polski' };
  const MAX_CHARS = 2000; // sync.protocol_chat.MAX_MESSAGE_CHARS
  const TYPING_TIMEOUT_MS = 30000; // like the server: a typing indicator never stays on longer

  const $ = (id) => document.getElementById(id);
  const make = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  let config = {};
  try {
    config = JSON.parse($('carbot-config').textContent) || {};
  } catch (_) {
    config = {};
  }
  const params = new URLSearchParams(location.search);
  const apiBase = String(config.apiBase || location.origin).replace(/\/+$/, '');
  const locationKey = String(config.locationKey || params.get('key') || '');
  const branding = config.branding || {};
  const languages = (Array.isArray(config.languages) && config.languages.length ? config.languages : Object.keys(TEXTS))
    .filter((code) => TEXTS[code]);
  const hostOrigin = (() => {
    try {
      const url = new URL(params.get('origin') || '');
      return /^https?:$/.test(url.protocol) ? url.origin : null;
    } catch (_) {
      return null;
    }
  })();
  const pickLang = (value) => {
    const code = String(value || '').slice(0, 2).toLowerCase();
    return languages.includes(code) ? code : null;
  };
  let lang = pickLang(params.get('lang')) || pickLang(navigator.language) || (languages.includes('de') ? 'de' : languages[0]);
  const STORE_KEY = 'carbot.widget.' + locationKey;

  const state = {
    token: null,
    status: 'bot',
    messages: new Map(), // seq → ChatMessage
    lastSeq: 0, // every seq up to this one is shown
    pending: new Map(), // client_id → {text, node}
    drafts: new Map(), // reply_to_seq → node (bot's streamed partial answer)
    source: null,
    retryDelay: 1000,
    visible: true,
    unread: 0,
    sendChain: Promise.resolve(),
    typingTimer: 0,
    draftTimer: 0,
  };

  const t = (key, vars) => {
    let text = (TEXTS[lang] && TEXTS[lang][key]) || TEXTS.de[key] || key;
    for (const [name, value] of Object.entries(vars || {})) text = text.replace('{' + name + '}', String(value));
    return text;
  };

  const safeUrl = (value) => {
    if (!value) return null;
    try {
      const url = new URL(String(value || ''), location.href);
      return /^https?:$/.test(url.protocol) ? url.href : null;
    } catch (_) {
      return null;
    }
  };

  // --- storage: only ever touched after consent ------------------------------------------------
  const storage = {
    get() {
      try {
        return sessionStorage.getItem(STORE_KEY);
      } catch (_) {
        return null; // storage blocked (third-party iframe): no resume, the chat still works
      }
    },
    set(value) {
      try {
        sessionStorage.setItem(STORE_KEY, value);
      } catch (_) {
        /* blocked: see get() */
      }
    },
    clear() {
      try {
        sessionStorage.removeItem(STORE_KEY);
      } catch (_) {
        /* blocked: see get() */
      }
    },
  };

  // --- parent page (the loader): open/close/unread only ----------------------------------------
  const toParent = (type, extra) => {
    if (hostOrigin && window.parent !== window) {
      window.parent.postMessage(Object.assign({ carbot: 1, type }, extra || {}), hostOrigin);
    }
  };
  window.addEventListener('message', (event) => {
    if (event.source !== window.parent || event.origin !== hostOrigin) return;
    const data = event.data;
    if (!data || data.carbot !== 1) return;
    if (data.type === 'open') {
      state.visible = true;
      state.unread = 0;
      const input = $('input');
      if (!$('chat').hidden) input.focus();
    } else if (data.type === 'hidden') {
      state.visible = false;
    }
  });

  // --- texts and branding ------------------------------------------------------------------------
  const applyTexts = () => {
    document.documentElement.lang = lang;
    document.querySelectorAll('[data-t]').forEach((node) => {
      node.textContent = t(node.getAttribute('data-t'));
    });
    document.querySelectorAll('[data-t-label]').forEach((node) => {
      node.setAttribute('aria-label', t(node.getAttribute('data-t-label')));
    });
    document.querySelectorAll('[data-t-placeholder]').forEach((node) => {
      node.setAttribute('placeholder', t(node.getAttribute('data-t-placeholder')));
    });
    renderStatus();
    renderSuggestions();
    state.messages.forEach((message) => {
      const who = document.querySelector('#log li[data-seq="' + message.seq + '"] .who');
      if (who) who.textContent = t(message.author === 'visitor' ? 'you' : message.author) + ': ';
    });
    updateCount();
  };

  const applyBranding = () => {
    if (branding.name) {
      $('name').textContent = branding.name;
      document.title = branding.name;
    }
    if (/^#[0-9a-f]{3,8}$/i.test(branding.color || '')) {
      document.documentElement.style.setProperty('--brand', branding.color);
    }
    const logo = safeUrl(branding.logo_url);
    if (logo) {
      $('logo').src = logo;
      $('logo').hidden = false;
    }
    const privacy = safeUrl(branding.privacy_url);
    if (privacy) {
      $('privacy').href = privacy;
      $('privacy').hidden = false;
    }
    const phone = String(branding.phone || '').replace(/[^\d+]/g, '');
    if (phone) {
      $('declined-phone').href = 'tel:' + phone;
      $('declined-phone').textContent = branding.phone;
      $('declined-phone').hidden = false;
    }
    $('powered').hidden = branding.show_powered_by === false;
    const select = $('lang');
    for (const code of languages) {
      const option = make('option', '', LANG_NAMES[code] || code);
      option.value = code;
      select.appendChild(option);
    }
    select.value = lang;
  };

  const show = (section) => {
    for (const id of ['consent', 'declined', 'chat']) $(id).hidden = id !== section;
  };

  // --- HTTP ----------------------------------------------------------------------------------------
  const api = async (method, path, body) => {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    const response = await fetch(apiBase + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const error = new Error((data && typeof data.detail === 'string' && data.detail) || t('error'));
      error.status = response.status;
      error.data = data;
      throw error;
    }
    return data;
  };

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // Network errors and 5xx are retried (the same body, so the same client_id); 4xx are final.
  const withRetry = async (call, attempts = 5) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        const retryable = error.status === undefined || error.status >= 500;
        if (!retryable || attempt >= attempts) throw error;
        await sleep(Math.min(500 * 2 ** (attempt - 1), 4000) + Math.random() * 250);
      }
    }
  };

  const newClientId = () => {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    return hex.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
  };

  const setNotice = (text) => {
    $('notice').textContent = text || '';
  };

  // --- rendering (textContent only) ---------------------------------------------------------------
  const timeFormat = () => new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' });

  const bubble = (author, text, when) => {
    const node = make('li', 'msg msg--' + author);
    const who = make('span', 'who', t(author === 'visitor' ? 'you' : author) + ': ');
    if (author === 'visitor' || author === 'bot') who.classList.add('sr-only');
    node.append(who, make('span', 'text', text));
    if (when) {
      const stamp = make('time', 'when', timeFormat().format(when));
      stamp.dateTime = when.toISOString();
      node.appendChild(stamp);
    }
    return node;
  };

  const scrollDown = () => {
    const log = $('log');
    log.scrollTop = log.scrollHeight;
  };

  const insertMessage = (message) => {
    const log = $('log');
    const node = bubble(message.author, message.text, new Date(message.created_at));
    node.dataset.seq = String(message.seq);
    // Keep seq order among stored messages; provisional bubbles (pending, drafts) stay at the end.
    let before = null;
    for (const child of log.children) {
      const seq = child.dataset.seq ? Number(child.dataset.seq) : Infinity;
      if (seq > message.seq) {
        before = child;
        break;
      }
    }
    log.insertBefore(node, before);
  };

  const dropDrafts = (predicate) => {
    for (const [seq, node] of state.drafts) {
      if (predicate(seq)) {
        node.remove();
        state.drafts.delete(seq);
      }
    }
  };

  const merge = (messages) => {
    let added = 0;
    for (const message of messages || []) {
      if (!message || typeof message.seq !== 'number' || state.messages.has(message.seq)) continue;
      state.messages.set(message.seq, message);
      insertMessage(message);
      added += 1;
      if (message.client_id && state.pending.has(message.client_id)) {
        state.pending.get(message.client_id).node.remove();
        state.pending.delete(message.client_id);
      }
      if (message.author === 'bot') dropDrafts((replyTo) => replyTo < message.seq);
      if (message.author === 'bot' || message.author === 'staff') setTyping(false);
      if (!state.visible && message.author !== 'visitor') state.unread += 1;
    }
    while (state.messages.has(state.lastSeq + 1)) state.lastSeq += 1;
    if (added) {
      renderSuggestions();
      scrollDown();
      if (!state.visible) toParent('unread', { count: state.unread });
    }
    // A gap (an event arrived after one we missed): fetch what is missing.
    if ([...state.messages.keys()].some((seq) => seq > state.lastSeq)) catchUp();
  };

  const showDraft = (replyTo, text) => {
    const answered = [...state.messages.values()].some((m) => m.author === 'bot' && m.seq > replyTo);
    if (answered || state.status !== 'bot' || typeof text !== 'string') return;
    let node = state.drafts.get(replyTo);
    if (!node) {
      node = bubble('bot', '');
      node.classList.add('draft');
      node.setAttribute('aria-hidden', 'true'); // the final message is announced, not every delta
      state.drafts.set(replyTo, node);
      $('log').appendChild(node);
    }
    node.querySelector('.text').textContent = text;
    scrollDown();
  };

  const setTyping = (on) => {
    clearTimeout(state.typingTimer);
    $('typing').hidden = !on;
    if (on) {
      state.typingTimer = setTimeout(() => setTyping(false), TYPING_TIMEOUT_MS);
      clearTimeout(state.draftTimer);
    } else if (state.drafts.size) {
      // A draft whose final message never came (the bot was muted or failed) must not stay.
      clearTimeout(state.draftTimer);
      state.draftTimer = setTimeout(() => dropDrafts(() => true), 4000);
    }
  };

  const STATUS_TEXT = { bot: 'statusBot', waiting_staff: 'statusWaiting', staff: 'statusStaff', closed: 'statusClosed' };
  const renderStatus = () => {
    $('status').textContent = t(STATUS_TEXT[state.status] || 'statusBot');
    $('human').hidden = state.status !== 'bot';
    document.body.dataset.status = state.status;
  };
  const setStatus = (status) => {
    if (!STATUS_TEXT[status] || status === state.status) return;
    state.status = status;
    if (status !== 'bot') {
      dropDrafts(() => true);
      setTyping(false);
    }
    renderStatus();
    renderSuggestions();
  };

  const renderSuggestions = () => {
    const box = $('qr');
    box.replaceChildren();
    if (state.status === 'closed') return;
    const last = state.messages.get(Math.max(0, ...state.messages.keys()));
    const own = last && last.author === 'bot' && Array.isArray(last.quick_replies) ? last.quick_replies : [];
    const items = own.length
      ? own.map((text) => [text, () => send(text)])
      : [
          [t('qrPrice'), () => send(t('qrPrice'))],
          [t('qrAppointment'), () => send(t('qrAppointment'))],
          [t('qrHours'), () => send(t('qrHours'))],
          [t('qrCallback'), () => openLead(t('qrCallback'))],
        ];
    for (const [text, action] of items) {
      const button = make('button', 'chip', String(text));
      button.type = 'button';
      button.addEventListener('click', action);
      box.appendChild(button);
    }
  };

  // --- session and live connection -------------------------------------------------------------------
  const catchUp = async () => {
    if (!state.token || state.catching) return;
    state.catching = true;
    try {
      const page = await api('GET', '/v1/widget/messages?after=' + state.lastSeq);
      state.catching = false;
      merge(page.messages);
      setStatus(page.status);
    } catch (error) {
      state.catching = false;
      if (error.status === 401) await startSession(null); // the visitor token expired (24 h)
    }
  };

  const connect = () => {
    if (state.source) state.source.close();
    const source = new EventSource(apiBase + '/v1/widget/events?token=' + encodeURIComponent(state.token));
    state.source = source;
    const onEvent = (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      const type = data.type || event.type;
      if (type === 'message') merge([data.message]);
      else if (type === 'delta') showDraft(data.reply_to_seq, data.text);
      else if (type === 'typing') setTyping(Boolean(data.typing));
      else if (type === 'status') setStatus(data.status);
    };
    for (const name of ['message', 'delta', 'typing', 'status']) source.addEventListener(name, onEvent);
    source.onopen = () => {
      state.retryDelay = 1000;
      setNotice('');
      catchUp(); // whatever happened while we were not connected
    };
    source.onerror = () => {
      if (state.source !== source) return;
      setNotice(t('reconnecting'));
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. an HTTP error): try again ourselves, backing off.
        source.close();
        const delay = state.retryDelay;
        state.retryDelay = Math.min(delay * 2, 30000);
        setTimeout(async () => {
          if (state.source !== source) return;
          await catchUp();
          if (state.source === source) connect();
        }, delay);
      }
    };
  };

  const startSession = async (resumeToken) => {
    show('chat');
    setNotice(t('starting'));
    const body = { location_key: locationKey, consent: true, language: lang };
    if (resumeToken) body.resume_token = resumeToken;
    state.token = null;
    let session;
    try {
      session = await withRetry(() => api('POST', '/v1/widget/session', body));
    } catch (error) {
      if (resumeToken && error.status && error.status < 500) return startSession(null);
      setNotice(error.message);
      return;
    }
    state.token = session.token;
    storage.set(session.token);
    if (session.conversation_id !== state.conversationId) {
      // Another conversation than the one shown (new session after expiry): start the list afresh.
      state.conversationId = session.conversation_id;
      state.messages.clear();
      state.lastSeq = 0;
      $('log').replaceChildren(...[...state.pending.values()].map((item) => item.node));
    }
    const seqs = (session.messages || []).map((m) => m.seq);
    if (!state.messages.size && seqs.length) state.lastSeq = Math.min(...seqs) - 1;
    if (session.language && session.language !== lang && TEXTS[session.language]) {
      lang = session.language;
      $('lang').value = lang;
      applyTexts();
    }
    state.status = '';
    setStatus(session.status);
    setNotice('');
    merge(session.messages);
    connect();
    $('input').focus();
  };

  // --- sending ---------------------------------------------------------------------------------------
  const markFailed = (item, error) => {
    item.node.classList.add('failed');
    const note = item.node.querySelector('.fail') || make('span', 'fail');
    note.replaceChildren(make('span', '', (error && error.status && error.status < 500 ? error.message : t('failed')) + ' '));
    const retry = make('button', 'link-btn', t('retry'));
    retry.type = 'button';
    retry.addEventListener('click', () => deliver(item));
    note.appendChild(retry);
    item.node.appendChild(note);
  };

  const deliver = (item) => {
    item.node.classList.remove('failed');
    const note = item.node.querySelector('.fail');
    if (note) note.remove();
    // One at a time, so the visitor's messages keep their order.
    state.sendChain = state.sendChain.then(async () => {
      try {
        const message = await withRetry(() =>
          api('POST', '/v1/widget/messages', { client_id: item.clientId, text: item.text })
        );
        if (state.pending.get(item.clientId) === item) {
          item.node.remove();
          state.pending.delete(item.clientId);
        }
        if (message && typeof message.seq === 'number') merge([message]);
      } catch (error) {
        markFailed(item, error);
      }
    });
  };

  const send = (raw) => {
    const text = String(raw || '').trim().slice(0, MAX_CHARS);
    if (!text || !state.token) return;
    const item = { clientId: newClientId(), text, node: bubble('visitor', text) };
    item.node.classList.add('pending');
    state.pending.set(item.clientId, item);
    $('log').appendChild(item.node);
    scrollDown();
    deliver(item);
  };

  const updateCount = () => {
    const left = MAX_CHARS - $('input').value.length;
    $('count').textContent = left <= 200 ? t('charsLeft', { n: left }) : '';
  };

  // --- lead form ------------------------------------------------------------------------------------------
  const FIELDS = ['name', 'phone', 'email', 'vehicle', 'concern', 'preferred_time'];
  const field = (name) => $('lead').elements.namedItem(name);

  const openLead = (concern) => {
    $('lead').hidden = false;
    if (concern && !field('concern').value) field('concern').value = concern;
    field('name').focus();
  };
  const closeLead = () => {
    $('lead').hidden = true;
    $('input').focus();
  };

  const setError = (id, input, message) => {
    $(id).textContent = message || '';
    if (input) input.setAttribute('aria-invalid', message ? 'true' : 'false');
  };

  const validateLead = () => {
    const phone = field('phone').value.trim();
    const email = field('email').value.trim();
    setError('e-phone', field('phone'), '');
    setError('e-email', field('email'), '');
    setError('e-lead', null, '');
    let ok = true;
    if (!phone && !email) {
      setError('e-phone', field('phone'), t('errContact'));
      ok = false;
    }
    if (phone && !/^\+?[\d\s()/.-]{6,30}$/.test(phone)) {
      setError('e-phone', field('phone'), t('errPhone'));
      ok = false;
    }
    if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
      setError('e-email', field('email'), t('errEmail'));
      ok = false;
    }
    return ok;
  };

  const submitLead = async (event) => {
    event.preventDefault();
    if (!validateLead()) {
      const invalid = $('lead').querySelector('[aria-invalid="true"]');
      if (invalid) invalid.focus();
      return;
    }
    const contact = {};
    for (const name of FIELDS) contact[name] = field(name).value.trim();
    try {
      const page = await withRetry(() => api('POST', '/v1/widget/lead', { contact }));
      if (page && Array.isArray(page.messages)) merge(page.messages); // MessagePage of what it added
    } catch (error) {
      const problems = (error.data && Array.isArray(error.data.errors) ? error.data.errors : [])
        .map((p) => p.message)
        .filter(Boolean);
      setError('e-lead', null, [error.message, ...problems].join(' '));
      return;
    }
    $('lead').reset();
    closeLead();
    setNotice(t('leadThanks'));
  };

  const handoff = async () => {
    $('human').disabled = true;
    try {
      const page = await withRetry(() => api('POST', '/v1/widget/handoff'));
      setStatus((page && page.status) || 'waiting_staff');
      if (page && Array.isArray(page.messages)) merge(page.messages);
    } catch (error) {
      setNotice(error.message);
    } finally {
      $('human').disabled = false;
    }
  };

  // --- wiring ----------------------------------------------------------------------------------------------
  const init = () => {
    applyBranding();
    applyTexts();
    $('consent-accept').addEventListener('click', () => startSession(null));
    $('consent-decline').addEventListener('click', () => show('declined'));
    $('declined-back').addEventListener('click', () => show('consent'));
    $('close').addEventListener('click', () => toParent('close'));
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') toParent('close');
    });
    $('lang').addEventListener('change', () => {
      lang = pickLang($('lang').value) || lang;
      applyTexts();
      // The server answers in the conversation's language: tell it by resuming with the new one.
      if (state.token) startSession(state.token);
    });
    $('composer').addEventListener('submit', (event) => {
      event.preventDefault();
      send($('input').value);
      $('input').value = '';
      updateCount();
    });
    $('input').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $('composer').requestSubmit();
      }
    });
    $('input').addEventListener('input', updateCount);
    $('lead-open').addEventListener('click', () => openLead(''));
    $('lead-cancel').addEventListener('click', closeLead);
    $('lead').addEventListener('submit', submitLead);
    $('human').addEventListener('click', handoff);
    toParent('ready', { color: branding.color });
    // A token in this tab's sessionStorage means the visitor consented earlier: resume that conversation.
    const saved = storage.get();
    if (saved) startSession(saved);
    else show('consent');
  };

  init();
})();
