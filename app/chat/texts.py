"""Everything the assistants say to visitors, in German, English, Turkish and Polish, and the formats
(prices, durations, days, times) in the visitor's language.

These are not gettext messages: the desktop runs in one language, but every web-chat conversation has
its own (the widget's), so the phrases are kept per language here. Templates use named placeholders
only; :func:`parse` reads a rendered template back, which is how the stateless built-in assistant
knows what it said in its previous turn.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache

from babel.dates import get_day_names
from babel.numbers import format_currency

from app.chat.conversation import normalise_language
from app.money import round_money

LOCALES = {"de": "de_DE", "en": "en_GB", "tr": "tr_TR", "pl": "pl_PL"}

# key → (de, en, tr, pl)
_T: dict[str, tuple[str, str, str, str]] = {
    "welcome": (
        "Hallo! Ich bin der digitale Assistent von {workshop}. Ich helfe Ihnen bei Preisen, Terminen und "
        "Öffnungszeiten – oder verbinde Sie mit unserem Team.",
        "Hello! I am the digital assistant of {workshop}. I can help with prices, appointments and opening "
        "hours – or put you through to our team.",
        "Merhaba! Ben {workshop} firmasının dijital asistanıyım. Fiyatlar, randevular ve çalışma saatleri "
        "konusunda yardımcı olabilir ya da sizi ekibimize bağlayabilirim.",
        "Dzień dobry! Jestem cyfrowym asystentem firmy {workshop}. Pomogę w sprawie cen, terminów i godzin "
        "otwarcia – albo połączę Państwa z naszym zespołem.",
    ),
    "fallback": (
        "Das habe ich leider nicht verstanden. Ich kann Ihnen Preise und Dauer unserer Leistungen nennen, freie "
        "Termine anbieten, die Öffnungszeiten sagen oder einen Rückruf organisieren. Oder möchten Sie mit einem "
        "Mitarbeiter sprechen?",
        "Sorry, I did not understand that. I can tell you the prices and durations of our services, offer free "
        "appointments, give our opening hours or arrange a call back. Or would you like to talk to a member of staff?",
        "Maalesef bunu anlayamadım. Hizmetlerimizin fiyatını ve süresini söyleyebilir, boş randevular önerebilir, "
        "çalışma saatlerimizi bildirebilir veya sizi geri aramamızı ayarlayabilirim. Bir çalışanımızla görüşmek "
        "ister misiniz?",
        "Niestety nie zrozumiałem. Mogę podać ceny i czas trwania naszych usług, zaproponować wolne terminy, podać "
        "godziny otwarcia albo zorganizować oddzwonienie. A może chcą Państwo porozmawiać z pracownikiem?",
    ),
    "refuse": (
        "Dabei kann ich nicht helfen. Ich gebe nur Auskunft über unsere Leistungen, Preise, Öffnungszeiten und "
        "freie Termine – Daten anderer Personen gebe ich nie heraus.",
        "I cannot help with that. I only give information about our services, prices, opening hours and free "
        "appointments – I never share anyone else's data.",
        "Bu konuda yardımcı olamam. Yalnızca hizmetlerimiz, fiyatlarımız, çalışma saatlerimiz ve boş randevular "
        "hakkında bilgi veririm; başka kişilerin bilgilerini asla paylaşmam.",
        "W tej sprawie nie mogę pomóc. Udzielam informacji wyłącznie o naszych usługach, cenach, godzinach otwarcia "
        "i wolnych terminach – nigdy nie udostępniam danych innych osób.",
    ),
    "price_one": (
        "„{service}“ kostet bei uns {price} (Dauer ca. {duration}).",
        "“{service}” costs {price} (about {duration}).",
        "“{service}” hizmetimizin fiyatı {price} (süresi yaklaşık {duration}).",
        "„{service}” kosztuje u nas {price} (czas trwania ok. {duration}).",
    ),
    "price_more": (
        "Weitere passende Leistungen:",
        "Other matching services:",
        "Diğer uygun hizmetler:",
        "Inne pasujące usługi:",
    ),
    "price_note": (
        "Alle Preise sind Endpreise; der genaue Preis hängt von Ihrem Fahrzeug ab. Gern erstellen wir Ihnen einen "
        "Kostenvoranschlag.",
        "All prices are final prices; the exact price depends on your vehicle. We are happy to give you a quote.",
        "Tüm fiyatlar nihai fiyatlardır; kesin fiyat aracınıza bağlıdır. İsterseniz size bir fiyat teklifi hazırlarız.",
        "Wszystkie ceny są cenami końcowymi; dokładna cena zależy od Państwa pojazdu. Chętnie przygotujemy kosztorys.",
    ),
    "ask_service_price": (
        "Für welche Leistung möchten Sie den Preis wissen? Zum Beispiel: {examples}.",
        "Which service would you like a price for? For example: {examples}.",
        "Hangi hizmetin fiyatını öğrenmek istersiniz? Örneğin: {examples}.",
        "Cenę której usługi chcą Państwo poznać? Na przykład: {examples}.",
    ),
    "no_service": (
        "Dazu habe ich in unserer Preisliste nichts gefunden. Beschreiben Sie kurz, worum es geht – oder "
        "hinterlassen Sie Ihre Telefonnummer, dann meldet sich die Werkstatt mit einem Angebot.",
        "I could not find that in our price list. Please describe briefly what you need – or leave your phone "
        "number and the workshop will get back to you with an offer.",
        "Fiyat listemizde bununla ilgili bir şey bulamadım. Lütfen konuyu kısaca açıklayın ya da telefon "
        "numaranızı bırakın; atölyemiz size bir teklifle dönüş yapsın.",
        "Nie znalazłem tego w naszym cenniku. Proszę krótko opisać, o co chodzi – albo zostawić numer telefonu, "
        "a warsztat odezwie się z ofertą.",
    ),
    "duration_one": (
        "Dauer für „{service}“: ca. {duration}",
        "“{service}” takes about {duration}.",
        "“{service}” yaklaşık {duration} sürer.",
        "Czas trwania usługi „{service}”: ok. {duration}",
    ),
    "hours_intro": ("Unsere Öffnungszeiten:", "Our opening hours:", "Çalışma saatlerimiz:", "Nasze godziny otwarcia:"),
    "hours_holiday": (
        "An gesetzlichen Feiertagen ist geschlossen.",
        "We are closed on public holidays.",
        "Resmî tatillerde kapalıyız.",
        "W dni ustawowo wolne od pracy jest zamknięte.",
    ),
    "closed": ("geschlossen", "closed", "kapalı", "zamknięte"),
    "ask_service_appointment": (
        "Gern! Für welche Leistung möchten Sie einen Termin? Zum Beispiel: {examples}.",
        "Gladly! Which service would you like an appointment for? For example: {examples}.",
        "Memnuniyetle! Hangi hizmet için randevu almak istersiniz? Örneğin: {examples}.",
        "Chętnie! Na jaką usługę chcą Państwo umówić wizytę? Na przykład: {examples}.",
    ),
    "slots_intro": (
        "Freie Termine für „{service}“ (Dauer ca. {duration}):",
        "Free appointments for “{service}” (about {duration}):",
        "“{service}” için boş randevular (süre yaklaşık {duration}):",
        "Wolne terminy na „{service}” (czas trwania ok. {duration}):",
    ),
    "slot_line": ("{n}) {when}", "{n}) {when}", "{n}) {when}", "{n}) {when}"),
    "slots_pick": (
        "Antworten Sie einfach mit der Nummer des gewünschten Termins.",
        "Just reply with the number of the appointment you want.",
        "İstediğiniz randevunun numarasını yazmanız yeterli.",
        "Wystarczy odpowiedzieć numerem wybranego terminu.",
    ),
    "no_slots": (
        "In den nächsten zwei Wochen ist leider kein passender Termin frei. Hinterlassen Sie Ihre Telefonnummer, "
        "dann meldet sich die Werkstatt bei Ihnen.",
        "Unfortunately there is no free appointment in the next two weeks. Leave your phone number and the "
        "workshop will contact you.",
        "Önümüzdeki iki hafta içinde maalesef uygun bir randevu yok. Telefon numaranızı bırakırsanız atölyemiz "
        "sizinle iletişime geçer.",
        "Niestety w ciągu najbliższych dwóch tygodni nie ma wolnego terminu. Proszę zostawić numer telefonu – "
        "warsztat się odezwie.",
    ),
    "ask_contact_booking": (
        "Sehr gern: „{service}“ am {when}. Bitte nennen Sie mir noch Ihren Namen und Ihre Telefonnummer oder "
        "E-Mail-Adresse.",
        "Great: “{service}” on {when}. Please tell me your name and your phone number or e-mail address.",
        "Memnuniyetle: “{service}”, {when}. Lütfen adınızı ve telefon numaranızı veya e-posta adresinizi yazın.",
        "Bardzo chętnie: „{service}”, {when}. Proszę jeszcze podać imię i nazwisko oraz numer telefonu lub adres "
        "e-mail.",
    ),
    "ask_name_booking": (
        "Danke! Für „{service}“ am {when} fehlt mir noch Ihr Name.",
        "Thank you! For “{service}” on {when} I still need your name.",
        "Teşekkürler! “{service}”, {when} için sadece adınız eksik.",
        "Dziękuję! Do rezerwacji „{service}”, {when} brakuje mi jeszcze Państwa imienia i nazwiska.",
    ),
    "ask_reach_booking": (
        "Danke, {name}! Für „{service}“ am {when} brauche ich noch Ihre Telefonnummer oder E-Mail-Adresse.",
        "Thank you, {name}! For “{service}” on {when} I still need your phone number or e-mail address.",
        "Teşekkürler, {name}! “{service}”, {when} için telefon numaranız veya e-posta adresiniz gerekli.",
        "Dziękuję, {name}! Do rezerwacji „{service}”, {when} potrzebuję jeszcze numeru telefonu lub adresu e-mail.",
    ),
    "booked": (
        "Vielen Dank, {name}! Ihre Terminanfrage für „{service}“ am {when} ist eingegangen (Nr. {ref}). Die "
        "Werkstatt bestätigt den Termin in Kürze.",
        "Thank you, {name}! Your appointment request for “{service}” on {when} has been received (no. {ref}). "
        "The workshop will confirm it shortly.",
        "Çok teşekkürler, {name}! “{service}” için {when} tarihli randevu talebiniz alındı (No. {ref}). "
        "Atölyemiz randevuyu kısa süre içinde onaylayacak.",
        "Dziękuję, {name}! Prośba o termin „{service}”, {when} została przyjęta (nr {ref}). Warsztat wkrótce "
        "potwierdzi termin.",
    ),
    "slot_taken": (
        "Dieser Termin ist leider gerade vergeben worden.",
        "Sorry, that appointment has just been taken.",
        "Bu randevu maalesef az önce doldu.",
        "Niestety ten termin został właśnie zajęty.",
    ),
    "callback_ask": (
        "Gern rufen wir Sie zurück. Bitte nennen Sie mir Ihren Namen und Ihre Telefonnummer.",
        "We will gladly call you back. Please tell me your name and phone number.",
        "Sizi memnuniyetle geri arayalım. Lütfen adınızı ve telefon numaranızı yazın.",
        "Chętnie oddzwonimy. Proszę podać imię i numer telefonu.",
    ),
    "callback_done": (
        "Danke! Wir rufen Sie unter {phone} zurück – während der Öffnungszeiten meist noch am selben Tag.",
        "Thank you! We will call you back on {phone} – during opening hours usually the same day.",
        "Teşekkürler! Sizi {phone} numarasından geri arayacağız – çalışma saatleri içinde genellikle aynı gün.",
        "Dziękuję! Oddzwonimy pod numer {phone} – w godzinach otwarcia zwykle tego samego dnia.",
    ),
    "callback_done_email": (
        "Danke! Wir melden uns per E-Mail unter {email}.",
        "Thank you! We will get back to you by e-mail at {email}.",
        "Teşekkürler! Size {email} adresinden e-posta ile dönüş yapacağız.",
        "Dziękuję! Odpowiemy e-mailem na adres {email}.",
    ),
    "contact_saved": (
        "Danke! Wir haben Ihre Kontaktdaten ({contact}) und melden uns bei Ihnen.",
        "Thank you! We have your contact details ({contact}) and will get back to you.",
        "Teşekkürler! İletişim bilgilerinizi ({contact}) aldık, size dönüş yapacağız.",
        "Dziękuję! Zapisaliśmy Państwa dane kontaktowe ({contact}) i odezwiemy się.",
    ),
    "handoff": (
        "Ich habe Ihr Anliegen an unser Team weitergegeben; ein Mitarbeiter übernimmt hier im Chat. Außerhalb der "
        "Öffnungszeiten kann es etwas dauern – hinterlassen Sie gern Ihre Telefonnummer oder E-Mail-Adresse.",
        "I have passed your request to our team; a member of staff will take over here in the chat. Outside "
        "opening hours this may take a while – feel free to leave your phone number or e-mail address.",
        "Talebinizi ekibimize ilettim; bir çalışanımız sohbeti buradan devralacak. Çalışma saatleri dışında bu "
        "biraz sürebilir – dilerseniz telefon numaranızı veya e-posta adresinizi bırakın.",
        "Przekazałem sprawę naszemu zespołowi; pracownik przejmie rozmowę tutaj na czacie. Poza godzinami "
        "otwarcia może to chwilę potrwać – można zostawić numer telefonu lub adres e-mail.",
    ),
    "emergency": (
        "Bei einer Panne oder einem Unfall rufen Sie uns bitte sofort an: {phone}. Sind Menschen in Gefahr, wählen "
        "Sie 112. Sichern Sie die Stelle ab (Warnblinker, Warnweste, Warndreieck).",
        "In case of a breakdown or an accident, please call us right away: {phone}. If anyone is in danger, dial "
        "112. Secure the scene (hazard lights, high-visibility vest, warning triangle).",
        "Arıza veya kaza durumunda lütfen bizi hemen arayın: {phone}. İnsanlar tehlikedeyse 112'yi arayın. "
        "Bulunduğunuz yeri güvenceye alın (dörtlü flaşör, reflektörlü yelek, üçgen reflektör).",
        "W razie awarii lub wypadku prosimy o natychmiastowy telefon: {phone}. Jeśli ktoś jest w "
        "niebezpieczeństwie, proszę dzwonić pod 112. Proszę zabezpieczyć miejsce (światła awaryjne, kamizelka "
        "odblaskowa, trójkąt ostrzegawczy).",
    ),
    "thanks": (
        "Gern geschehen! Kann ich sonst noch helfen?",
        "You are welcome! Is there anything else I can help with?",
        "Rica ederim! Başka bir konuda yardımcı olabilir miyim?",
        "Nie ma za co! Czy mogę jeszcze w czymś pomóc?",
    ),
    "contact_info": (
        "So erreichen Sie uns:",
        "How to reach us:",
        "Bize buradan ulaşabilirsiniz:",
        "Tak można się z nami skontaktować:",
    ),
    "price_from": ("ab {amount}", "from {amount}", "{amount}'dan itibaren", "od {amount}"),
    "minutes": ("{m} Min.", "{m} min", "{m} dk.", "{m} min"),
    "hours": ("{h} Std.", "{h} h", "{h} sa.", "{h} godz."),
    "hours_minutes": ("{h} Std. {m} Min.", "{h} h {m} min", "{h} sa. {m} dk.", "{h} godz. {m} min"),
    "at_time": ("{time} Uhr", "{time}", "{time}", "{time}"),
    # quick replies: short labels the widget shows as buttons (the intents understand them)
    "qr_price": ("Preise", "Prices", "Fiyatlar", "Ceny"),
    "qr_appointment": ("Termin vereinbaren", "Book an appointment", "Randevu al", "Umów wizytę"),
    "qr_hours": ("Öffnungszeiten", "Opening hours", "Çalışma saatleri", "Godziny otwarcia"),
    "qr_callback": ("Rückruf", "Call me back", "Beni geri arayın", "Oddzwońcie do mnie"),
    "qr_person": ("Mit Mitarbeiter sprechen", "Talk to a person", "Bir çalışanla görüş", "Rozmowa z pracownikiem"),
    # tool results (shown to the LLM, which passes them on in the visitor's language)
    "err_unknown_tool": (
        "Diese Funktion gibt es nicht.",
        "This function does not exist.",
        "Böyle bir işlev yok.",
        "Taka funkcja nie istnieje.",
    ),
    "err_invalid_arguments": (
        "Die Angaben sind ungültig: {detail}",
        "The arguments are invalid: {detail}",
        "Bilgiler geçersiz: {detail}",
        "Dane są nieprawidłowe: {detail}",
    ),
    "err_unknown_service": (
        "Die Leistung „{code}“ gibt es nicht.",
        "The service “{code}” does not exist.",
        "“{code}” hizmeti mevcut değil.",
        "Usługa „{code}” nie istnieje.",
    ),
    "err_invalid_time": (
        "„{value}“ ist keine gültige Uhrzeit.",
        "“{value}” is not a valid time.",
        "“{value}” geçerli bir zaman değil.",
        "„{value}” to nieprawidłowy czas.",
    ),
    "err_slot_past": (
        "Dieser Termin liegt in der Vergangenheit.",
        "This appointment is in the past.",
        "Bu randevu geçmişte kalıyor.",
        "Ten termin już minął.",
    ),
    "err_slot_unavailable": (
        "Dieser Termin ist nicht frei.",
        "This appointment is not available.",
        "Bu randevu müsait değil.",
        "Ten termin nie jest wolny.",
    ),
    "err_contact_missing": (
        "Für eine Terminanfrage brauche ich Ihren Namen und Ihre Telefonnummer oder E-Mail-Adresse.",
        "For an appointment request I need your name and your phone number or e-mail address.",
        "Randevu talebi için adınız ve telefon numaranız veya e-posta adresiniz gerekli.",
        "Do prośby o termin potrzebuję imienia i nazwiska oraz numeru telefonu lub adresu e-mail.",
    ),
    "err_invalid_phone": (
        "„{value}“ ist keine gültige Telefonnummer.",
        "“{value}” is not a valid phone number.",
        "“{value}” geçerli bir telefon numarası değil.",
        "„{value}” to nieprawidłowy numer telefonu.",
    ),
    "err_invalid_email": (
        "„{value}“ ist keine gültige E-Mail-Adresse.",
        "“{value}” is not a valid e-mail address.",
        "“{value}” geçerli bir e-posta adresi değil.",
        "„{value}” to nieprawidłowy adres e-mail.",
    ),
    "err_too_many_calls": (
        "Zu viele Funktionsaufrufe in einer Antwort.",
        "Too many function calls in one answer.",
        "Tek yanıtta çok fazla işlev çağrısı.",
        "Zbyt wiele wywołań funkcji w jednej odpowiedzi.",
    ),
    "err_already_requested": (
        "In dieser Antwort wurde schon ein Termin angefragt.",
        "An appointment has already been requested in this answer.",
        "Bu yanıtta zaten bir randevu talep edildi.",
        "W tej odpowiedzi już poproszono o termin.",
    ),
    "err_failed": (
        "Das hat leider nicht geklappt. Bitte versuchen Sie es erneut.",
        "Sorry, that did not work. Please try again.",
        "Maalesef bu işlem başarısız oldu. Lütfen tekrar deneyin.",
        "Niestety to się nie udało. Proszę spróbować ponownie.",
    ),
}

_INDEX = {"de": 0, "en": 1, "tr": 2, "pl": 3}
KEYS = frozenset(_T)


def text(key: str, language: str, **params: object) -> str:
    """The phrase ``key`` in ``language`` (German for unknown languages) with its named placeholders filled."""
    template = _T[key][_INDEX[normalise_language(language)]]
    return template.format(**params) if params else template


def all_languages(key: str) -> tuple[str, ...]:
    """The raw template ``key`` in every language (de, en, tr, pl)."""
    return _T[key]


@lru_cache(maxsize=256)
def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(f"(?P<{part}>.+?)" if index % 2 else re.escape(part) for index, part in enumerate(parts))
    return re.compile(regex)


def parse(key: str, message: str) -> dict[str, str] | None:
    """Read back a rendered ``key`` template (in any language) from ``message``: its placeholders' values,
    or None if ``message`` does not contain it."""
    for template in _T[key]:
        found = _pattern(template).search(message)
        if found:
            return found.groupdict()
    return None


def format_money(amount: Decimal, language: str) -> str:
    """A euro amount in the visitor's format: de/tr/pl "89,00 €", en "€89.00" (plain spaces, no NBSP)."""
    lang = normalise_language(language)
    value = round_money(amount)
    pattern = None if lang != "tr" else "#,##0.00\u00a0¤"  # tr_TR would put € first; the product writes 89,00 €
    formatted = format_currency(value, "EUR", format=pattern, locale=LOCALES[lang], currency_digits=True)
    return formatted.replace("\u00a0", " ").replace("\u202f", " ")


def format_price_from(amount: Decimal, language: str) -> str:
    """The "ab" price: "ab 89,00 €", "from €89.00", "89,00 €'dan itibaren", "od 89,00 €"."""
    return text("price_from", language, amount=format_money(amount, language))


def format_duration(minutes: int, language: str) -> str:
    """ "45 Min.", "1 Std. 30 Min.", "2 h" … in the visitor's language."""
    hours, rest = divmod(max(0, minutes), 60)
    if not hours:
        return text("minutes", language, m=rest)
    if not rest:
        return text("hours", language, h=hours)
    return text("hours_minutes", language, h=hours, m=rest)


def weekday_name(weekday: int, language: str, *, short: bool = False) -> str:
    """The weekday's name (0 = Monday) in the visitor's language; short forms without a trailing dot."""
    names = get_day_names("abbreviated" if short else "wide", locale=LOCALES[normalise_language(language)])
    return str(names[weekday]).rstrip(".")


def format_when(start: dt.datetime, language: str) -> str:
    """A slot start for the visitor: "Dienstag, 10.03.2026, 08:00 Uhr", "Tuesday, 10/03/2026, 08:00" …

    Always day, month, four-digit year and HH:MM, so :func:`parse_when` can read it back in every language.
    """
    lang = normalise_language(language)
    date = f"{start:%d/%m/%Y}" if lang == "en" else f"{start:%d.%m.%Y}"
    return f"{weekday_name(start.weekday(), lang)}, {date}, {text('at_time', lang, time=f'{start:%H:%M}')}"


_WHEN = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})\D{1,24}?(\d{1,2}):(\d{2})")


def parse_when(message: str) -> dt.datetime | None:
    """The first date-and-time written by :func:`format_when` in ``message`` (None if there is none)."""
    found = _WHEN.search(message)
    if not found:
        return None
    day, month, year, hour, minute = (int(g) for g in found.groups())
    try:
        return dt.datetime(year, month, day, hour, minute)
    except ValueError:
        return None


def examples_list(names: list[str], language: str) -> str:
    """ "A, B, C oder D" in the visitor's language."""
    if len(names) < 2:
        return "".join(names)
    joiner = {"de": " oder ", "en": " or ", "tr": " veya ", "pl": " lub "}[normalise_language(language)]
    return ", ".join(names[:-1]) + joiner + names[-1]
