"""The built-in assistant's vocabulary in German, English, Turkish and Polish (data only).

All entries are folded text (lower case, no accents; Turkish ı/ş/ğ/ç and Polish ł/ą/ę/ś/ż as plain
letters; German umlauts either dropped or spelled out — the matcher tries both forms). Entries are
separated by "|". An entry matches at a word start ("termin" finds "termine"); one starting with "="
must be a whole word ("=hi" but not "hilfe").
"""

from __future__ import annotations

INTENT_WORDS: dict[str, str] = {
    "injection": (
        # de
        "ignoriere|ignorier|vergiss deine|vergiss alle|vergiss die anweisung|deine anweisungen|systemprompt|"
        "system prompt|=prompt|andere kunden|anderen kunden|letzten kunden|letzte kunde|kundendaten|kundenliste|"
        "alle termine|alle buchungen|passwort|=admin|entwicklermodus|du bist jetzt|"
        # en
        "ignore|disregard|forget your|forget all|your instructions|previous instructions|=system|developer mode|"
        "jailbreak|other customers|last customer|previous customer|customer list|customer data|all bookings|"
        "all appointments|password|api key|you are now|act as|pretend|"
        # tr
        "talimatlari unut|talimatlarini unut|talimatlari yok say|onceki talimat|diger musteri|son musteri|"
        "musteri listesi|musteri bilgileri|sifre|tum randevular|sistem komut|"
        # pl
        "zignoruj|ignoruj|zapomnij instrukcje|poprzednie instrukcje|innych klientow|ostatniego klienta|"
        "poprzedniego klienta|dane klientow|lista klientow|haslo|wszystkie rezerwacje|wszystkie wizyty"
    ),
    "emergency": (
        "notfall|panne|unfall|liegengeblieben|liegen geblieben|qualm|raucht|brennt|bremsen versagen|bremse versagt|"
        "bremst nicht|abschlepp|"
        "emergency|breakdown|broke down|broken down|accident|smoke|on fire|brakes failed|tow truck|"
        "=acil|kaza|yolda kaldim|duman|yaniyor|cekici|frenler tutmuyor|"
        "wypadek|awaria na drodze|zepsul sie|=dym|pali sie|holowanie|laweta|hamulce nie dzialaja"
    ),
    "handoff": (
        "mitarbeiter|=mensch|=menschen|echte person|echten person|=person|persoenlich sprechen|=jemand|=chef|"
        "meister sprechen|human|real person|=agent|=staff|someone real|talk to a person|speak to someone|"
        "=insan|insanla|yetkili|temsilci|gercek kisi|calisanla|bir calisan|"
        "=czlowiek|czlowiekiem|konsultant|pracownik|zywa osoba"
    ),
    "callback": (
        "rueckruf|ruckruf|zurueckrufen|zuruckrufen|ruft mich|rufen sie mich|rufen mich|"
        "call me|call back|callback|phone me|ring me|"
        "beni ara|geri ara|arayin|aranmak|telefonla ulas|"
        "oddzwon|zadzwoncie|prosze zadzwonic|prosze o telefon|prosba o kontakt"
    ),
    "appointment": (
        "termin|buchen|vorbeikommen|reservier|freie|=frei|wann passt|wann koennt|"
        "appointment|=book|booking|schedule|available|availability|free slot|=slot|=slots|"
        "randevu|rezervasyon|musait|ne zaman gel|"
        "wizyt|umow|rezerwac|zarezerw|zapis|wolne terminy|wolny termin|kiedy moge"
    ),
    "price": (
        "kostet|kosten|preis|wie teuer|=teuer|=euro|angebot|kostenvoranschlag|was nehmt|was nehmen sie|"
        "price|prices|=cost|costs|how much|quote|"
        "fiyat|ne kadar|ucret|kac para|kac lira|kac euro|teklif|"
        "=cena|=ceny|=cen|cennik|koszt|ile kosztuj|ile za|wycena"
    ),
    "duration": (
        "wie lange|dauer|dauert|how long|duration|take long|"
        "ne kadar surer|ne kadar suruyor|kac saat|kac dakika|suresi|surer|"
        "jak dlugo|ile trwa|czas trwania|ile czasu"
    ),
    "opening_hours": (
        "oeffnungszeit|offnungszeit|geoeffnet|geoffnet|=offen|wann habt|wann haben sie|wann seid|sprechzeit|"
        "opening hours|opening times|=open|business hours|what time|closing|"
        "calisma saat|=acik|acilis|kacta|"
        "godziny otwarcia|godzin otwarcia|otwarte|czynne|czynny|=godziny"
    ),
    "contact_info": (
        "adresse|anschrift|wo seid|wo sind sie|wo finde|anfahrt|"
        "=address|where are you|located|directions|"
        "=adres|adresiniz|neredesiniz|konum|"
        "gdzie jestescie|gdzie sie znajduj|dojazd|lokalizacja"
    ),
    "greeting": (
        "=hallo|=hi|=hey|guten tag|guten morgen|guten abend|=moin|=servus|gruess gott|gruss gott|"
        "=hello|good morning|good afternoon|merhaba|=selam|iyi gunler|dzien dobry|=czesc|=witam|=hej"
    ),
    "thanks": "danke|vielen dank|thanks|thank you|=cheers|tesekkur|sagol|sag ol|dziekuje|dzieki",
}

# everyday words and other languages → (folded) words of the German catalogue names; "phrase>term"
SYNONYMS = (
    "oel wechseln>oelwechsel|ol wechseln>oelwechsel|oil change>oelwechsel|change the oil>oelwechsel|"
    "oil service>oelwechsel|engine oil>oelwechsel|yag degis>oelwechsel|motor yagi>oelwechsel|"
    "yagi degis>oelwechsel|wymiana oleju>oelwechsel|wymiane oleju>oelwechsel|wymienic olej>oelwechsel|"
    "=oleju>oelwechsel|=olej>oelwechsel|=oel>oelwechsel|=oil>oelwechsel|=yag>oelwechsel|"
    "inspection>inspektion|servicing>inspektion|bakim>inspektion|przeglad>inspektion|"
    "tuev>hu au vorfuehrung|=tuv>hu au vorfuehrung|hauptuntersuchung>hu au vorfuehrung|"
    "=mot>hu au vorfuehrung|muayene>hu au vorfuehrung|przeglad techniczny>hu au vorfuehrung|"
    "abgasuntersuchung>au|"
    "brake pads>bremsbelaege|brake fluid>bremsfluessigkeit|brake>brems|=fren>brems|frenler>brems|"
    "balata>bremsbelaege|fren hidrolig>bremsfluessigkeit|plyn hamulcowy>bremsfluessigkeit|hamulc>brems|"
    "klocki>bremsbelaege|"
    "wheel change>raederwechsel|tyre change>raederwechsel|tire change>raederwechsel|"
    "reifenwechsel>raederwechsel|reifen wechseln>raederwechsel|radwechsel>raederwechsel|"
    "lastik degis>raederwechsel|wymiana opon>raederwechsel|wymiana kol>raederwechsel|"
    "tyre>reifen|tire>reifen|lastik>reifen|=opony>reifen|=opon>reifen|"
    "battery>batterie|=aku>batterie|=akue>batterie|akumulator>batterie|"
    "air con>klimaservice|aircon>klimaservice|air conditioning>klimaservice|=klima>klimaservice|"
    "=klimaanlage>klimaservice|klimatyzac>klimaservice|"
    "clutch>kupplung|debriyaj>kupplung|sprzeglo>kupplung|"
    "timing belt>zahnriemen|triger>zahnriemen|rozrzad>zahnriemen|"
    "exhaust>abgas|egzoz>abgas|wydech>abgas|tlumik>auspuff|"
    "wheel alignment>achsvermessung|alignment>achsvermessung|rot balans>achsvermessung|"
    "zbieznosc>achsvermessung|"
    "windscreen>scheibe|windshield>scheibe|=cam>scheibe|szyba>scheibe|"
    "diagnos>diagnose|ariza tespit>diagnose|fehlerspeicher>diagnose|"
    "coolant>kuehlmittel|antifriz>kuehlmittel|plyn chlodniczy>kuehlmittel"
)

# words that never name a service (question words, verbs, "car", …)
STOPWORDS = (
    # de
    "was wie viel kostet kosten kostest preis preise der die das den dem des ein eine einen einem einer bei ihnen "
    "euch uns ich mir mich mein meine moechte mochte will wuerde wurde haette gerne gern bitte fuer fur mit und "
    "oder von vom zum zur auf ist sind hat haben habt termin termine wann dauer dauert lange auto wagen fahrzeug "
    "machen macht lassen neue neuen inkl bis hallo danke wechseln tauschen erneuern ersetzen reparieren "
    "vereinbaren ausmachen brauche benoetige naechste naechsten woche heute morgen bald moeglich "
    # en
    "the of for my is how much does cost costs price prices do you your what when can we to and or please car "
    "vehicle book appointment need want would like get change replace repair fix new next week today "
    "tomorrow soon possible "
    # tr
    "kadar fiyat fiyati fiyatlar icin bir ile arac arabam araba randevu nedir olur yaptirmak istiyorum "
    "yarin bugun hafta "
    # pl
    "ile jak kosztuje cena ceny koszt dla samochod samochodu wizyta wizyte prosze chce moj moja moje umow "
    "jutro dzisiaj tydzien"
)

# words that mark a special variant rather than the standard service ("ohne Ölfilter", "Motorrad")
VARIANT_WORDS = (
    "ohne|mitgebracht|nachfuell| nur | vor |instandsetz|entsorg|pruefen|vorbereitung|nachpruefung|"
    "sichtpruefung|einzeln|zuruecksetzen|motorrad|wohnmobil|anhaenger|transporter| v8 "
)

# short catalogue words that are still meaningful search terms
SHORT_TERMS = "hu au abs esp dsg atf led agr"

# ordinal words for "the first / second / third / last" slot
ORDINALS: dict[int, str] = {
    0: "=erste|=ersten|=erster|=erstes|=first|=1st|=birinci|=ilk|ilkini|=pierwszy|=pierwsza|=pierwsze|pierwszego",
    1: "=zweite|=zweiten|=zweiter|=second|=2nd|=ikinci|ikinciyi|=drugi|=druga|=drugie|drugiego",
    2: "=dritte|=dritten|=dritter|=third|=3rd|ucuncu|=trzeci|=trzecia|=trzecie|trzeciego",
    -1: "=letzte|=letzten|=letzter|=last|=sonuncu|=sonuncuyu|=ostatni|=ostatnia|=ostatnie|ostatniego",
}
YES = "=ja|=gern|=gerne|=passt|=ok|=okay|=yes|=sure|=fine|=evet|=tamam|=olur|=tak|=dobrze|=pasuje"

# weekday names and stems (Polish and Turkish inflect: "w środę", "wtorku"), 0 = Monday
WEEKDAYS: dict[int, str] = {
    0: "montag|monday|=mon|pazartesi|poniedzial|=pon",
    1: "dienstag|tuesday|=tue|=sali|wtorek|wtork",
    2: "mittwoch|wednesday|=wed|carsamba|sroda|srode|srod",
    3: "donnerstag|thursday|=thu|persembe|czwart",
    4: "freitag|friday|=fri|=cuma|piatek|piatk",
    5: "samstag|sonnabend|saturday|=sat|cumartesi|sobot",
    6: "sonntag|sunday|=sun|=pazar|niedziel",
}
# relative days
TODAY = "=heute|=today|=bugun|=dzis|=dzisiaj"
TOMORROW = "=morgen|=tomorrow|=yarin|=jutro"
DAY_AFTER_TOMORROW = "=uebermorgen|=ubermorgen|=obermorgen|day after tomorrow|=obur gun|=pojutrze"

# phrases introducing a name ("ich heiße …")
NAME_INTRO = (
    r"ich hei(?:ß|ss)e|mein name ist|name\s*:|hier ist|ich bin|my name is|i am|i'm|this is|"
    r"ad[ıi]m|benim ad[ıi]m|ismim|nazywam si[ęe]|mam na imi[ęe]|jestem|imi[ęe] i nazwisko\s*:"
)
# words that are not part of a name when a visitor answers "Max Muster, Tel. 0171 …"
NOT_NAME = (
    "tel telefon telefonnummer handy mobil nummer phone number mobile email mail e-mail und and oder or ve veya "
    "numara numaram numaramiz i oraz lub mein meine my name ist is benim adim ad ismim jestem nazywam sie "
    "ja hallo hi hello merhaba czesc bitte please lutfen prosze danke thanks"
)
