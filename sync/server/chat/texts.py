"""System messages the server writes into a conversation, in the visitor's language (de, en, tr, pl).

They are shown to the visitor (not to staff), so they follow the conversation's language rather than
the server's; German is the fallback. Error responses of the API stay German gettext msgids
(``sync.server.errors``).
"""

from __future__ import annotations

from typing import Literal

Notice = Literal["handoff", "offline", "limit", "lead", "staff_joined", "closed", "failed"]

_TEXTS: dict[Notice, dict[str, str]] = {
    "handoff": {
        "de": "Ich verbinde Sie mit einem Mitarbeiter. Wir melden uns so schnell wie möglich.",
        "en": "I am connecting you with a member of our team. We will get back to you as soon as possible.",
        "tr": "Sizi bir çalışanımıza bağlıyorum. En kısa sürede size geri döneceğiz.",
        "pl": "Łączę Cię z pracownikiem. Odezwiemy się najszybciej, jak to możliwe.",
    },
    "offline": {
        "de": "Vielen Dank für Ihre Nachricht! Wir antworten so bald wie möglich. Hinterlassen Sie gern Ihre "
        "Telefonnummer oder E-Mail-Adresse, damit wir Sie erreichen.",
        "en": "Thank you for your message! We will reply as soon as possible. Feel free to leave your phone "
        "number or e-mail address so we can reach you.",
        "tr": "Mesajınız için teşekkürler! En kısa sürede yanıt vereceğiz. Size ulaşabilmemiz için telefon "
        "numaranızı veya e-posta adresinizi bırakabilirsiniz.",
        "pl": "Dziękujemy za wiadomość! Odpowiemy najszybciej, jak to możliwe. Zostaw numer telefonu lub adres "
        "e-mail, abyśmy mogli się z Tobą skontaktować.",
    },
    "limit": {
        "de": "Vielen Dank für Ihre Nachricht! Ein Mitarbeiter meldet sich persönlich bei Ihnen. Hinterlassen Sie "
        "gern Ihre Telefonnummer oder E-Mail-Adresse über das Kontaktformular.",
        "en": "Thank you for your message! A member of our team will get back to you personally. Feel free to "
        "leave your phone number or e-mail address in the contact form.",
        "tr": "Mesajınız için teşekkürler! Bir çalışanımız sizinle bizzat iletişime geçecek. İletişim formu "
        "üzerinden telefon numaranızı veya e-posta adresinizi bırakabilirsiniz.",
        "pl": "Dziękujemy za wiadomość! Nasz pracownik skontaktuje się z Tobą osobiście. Zostaw numer telefonu "
        "lub adres e-mail w formularzu kontaktowym.",
    },
    "lead": {
        "de": "Danke! Wir haben Ihre Kontaktdaten erhalten und melden uns bei Ihnen.",
        "en": "Thank you! We have received your contact details and will get in touch.",
        "tr": "Teşekkürler! İletişim bilgilerinizi aldık, sizinle iletişime geçeceğiz.",
        "pl": "Dziękujemy! Otrzymaliśmy Twoje dane kontaktowe i odezwiemy się.",
    },
    "staff_joined": {
        "de": "Ein Mitarbeiter ist jetzt für Sie da.",
        "en": "A member of our team is here for you now.",
        "tr": "Bir çalışanımız şimdi sizinle.",
        "pl": "Pracownik jest teraz do Twojej dyspozycji.",
    },
    "closed": {
        "de": "Der Chat wurde beendet. Schreiben Sie uns gern jederzeit wieder.",
        "en": "The chat has ended. Feel free to write to us again at any time.",
        "tr": "Sohbet sona erdi. Bize istediğiniz zaman tekrar yazabilirsiniz.",
        "pl": "Czat został zakończony. Napisz do nas ponownie w dowolnym momencie.",
    },
    "failed": {
        "de": "Entschuldigung, gerade kann ich nicht antworten. Ein Mitarbeiter meldet sich bei Ihnen.",
        "en": "Sorry, I cannot answer right now. A member of our team will get back to you.",
        "tr": "Üzgünüm, şu anda yanıt veremiyorum. Bir çalışanımız size geri dönecek.",
        "pl": "Przepraszamy, nie mogę teraz odpowiedzieć. Nasz pracownik skontaktuje się z Tobą.",
    },
}


def notice(kind: Notice, language: str) -> str:
    """The system message ``kind`` in ``language`` (German when the language is unknown)."""
    texts = _TEXTS[kind]
    return texts.get(language, texts["de"])
