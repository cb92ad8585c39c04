"""Make ``distractors.jsonl``: off-topic Dutch lines as spoken at a dike project symposium.

Dike engineering, planning, weather, traffic, permits, housekeeping and small talk, from
templates with random slot fillers plus hand-written lines; some use words of the ingredients
in another sense (the risk of piping, dividing the dike into sections, lunch at half past
twelve), as real talks do. Deterministic: ``python tests/data/make_distractors.py [N]``.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

PLACES = [
    "Gorinchem",
    "Waardenburg",
    "Vuren",
    "Herwijnen",
    "Haaften",
    "Hellouw",
    "Tuil",
    "Dalem",
    "Zaltbommel",
    "Asperen",
    "Heukelum",
    "Spijk",
    "Leerdam",
    "Tiel",
    "Culemborg",
    "Beesd",
]
PARTS = [
    "kruin",
    "binnenberm",
    "buitenberm",
    "steunberm",
    "teen",
    "binnentalud",
    "buitentalud",
    "kleilaag",
    "damwand",
    "kwelsloot",
    "onderhoudsstrook",
    "dijkweg",
    "bekleding",
    "kistdam",
]
ACTIONS = [
    "verhoogd",
    "verbreed",
    "afgegraven",
    "opnieuw ingezaaid",
    "versterkt met een damwand",
    "voorzien van een nieuwe kleilaag",
    "afgewerkt met asfalt",
    "opgehoogd met zand",
    "gemonitord met peilbuizen",
    "ingemeten door de landmeters",
]
REASONS = [
    "de grond nog moet zetten",
    "de levering van damwandplanken vertraagd is",
    "het broedseizoen begint",
    "de kabels en leidingen eerst verlegd moeten worden",
    "het hoogwater langer aanhield dan verwacht",
    "het ontwerp nog getoetst wordt",
    "de archeologische begeleiding meer tijd vraagt",
    "er te weinig klei beschikbaar is",
    "de nutsbedrijven pas in het najaar kunnen",
    "de proefbelasting opnieuw moet",
]
PHASES = [
    "het grondwerk",
    "de asfaltering",
    "het aanbrengen van de damwand",
    "de oplevering",
    "fase twee",
    "het deelgebied bij de sluis",
    "de herinrichting van de uiterwaard",
    "het verleggen van de dijkweg",
    "de sloop van de oude gemaal",
    "de aanleg van de fietsroute",
]
WEATHER = [
    "het regende drie dagen achter elkaar",
    "het vroor 's nachts flink",
    "er stond een harde westenwind",
    "het was te nat om met zwaar materieel te rijden",
    "de temperatuur bleef onder de vijf graden",
    "er lag sneeuw op de kruin",
    "het was droog en zonnig",
    "er was mist op de rivier",
]
WEATHER_EFFECTS = [
    "lag het asfalteren stil",
    "konden de kranen niet draaien",
    "is de grond eerst gedraineerd",
    "hebben we de ploegen naar binnen gehaald",
    "liep het grondwerk een week achter",
    "zijn de rijplaten opnieuw gelegd",
    "ging het inzaaien niet door",
]
ROADS = [
    "dijkweg",
    "Waalbandijk",
    "provinciale weg",
    "Lingedijk",
    "veerstoep",
    "afrit",
    "parallelweg",
]
TRAFFIC = [
    "al het verkeer",
    "vrachtverkeer",
    "fietsers",
    "landbouwverkeer",
    "bussen",
    "bouwverkeer",
]
PERMITS = [
    "watervergunning",
    "omgevingsvergunning",
    "kapvergunning",
    "ontheffing voor de Wet natuurbescherming",
    "vergunning voor de bouwweg",
    "verkeersbesluit",
    "ontgrondingsvergunning",
    "melding bodemkwaliteit",
]
PERMIT_STATUS = [
    "verleend",
    "nog in behandeling",
    "aangevraagd in maart",
    "gepubliceerd in de Staatscourant",
    "aangepast na de zienswijzen",
    "voor zes weken ter inzage gelegd",
]
NUMBERS = ["twee", "drie", "vier", "vijf", "zes", "acht", "tien", "twaalf", "vijftien", "twintig"]
DAYS = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "volgende week", "half mei"]
MATERIALS = ["klei", "zand", "asfalt", "breuksteen", "geotextiel", "damwandplanken", "betonplaten"]

TEMPLATES = [
    "De {part} van de dijk bij {place} wordt over een lengte van {n} honderd meter {action}.",
    "Op het traject tussen {place} en {place2} is de {part} inmiddels {action}.",
    "De planning voor {phase} schuift {n} weken op, omdat {reason}.",
    "We beginnen {day} met {phase} bij {place}; dat duurt naar verwachting {n} weken.",
    "Het weer zat niet mee: {weather}, dus {effect}.",
    "Vanaf {day} is de {road} bij {place} afgesloten voor {traffic}; er geldt een omleiding via {place2}.",
    "De {permit} voor {phase} is {status}.",
    "Voor {phase} is een {permit} nodig, en die is {status}.",
    "Er wordt per dag ongeveer {n} honderd kuub {material} aangevoerd over de {road}.",
    "De {material} komt per schip aan en wordt bij {place} overgeslagen op vrachtwagens.",
    "Uit de metingen van de zakbaken blijkt dat de ondergrond bij {place} {n} centimeter is gezakt.",
    "Het risico op piping is bij {place} groter dan gedacht, daarom komt er een {part} bij.",
    "We delen de dijk op in {n} vakken, en per vak bepalen we de benodigde hoogte van de {part}.",
    "Het uitvoeringsteam van {place} werkt in twee ploegen, van zeven tot vier.",
    "De bewoners van {place} krijgen {day} een brief over de werkzaamheden aan de {road}.",
    "Tijdens het hoogwater van de rivier stond de uiterwaard bij {place} {n} dagen onder water.",
    "De kosten van de extra {material} vallen binnen de post onvoorzien van {phase}.",
    "Volgens het grondonderzoek zit er bij {place} een zandlaag op {n} meter diepte.",
    "Bij {place} komt een nieuwe trap over de dijk, zodat wandelaars de rivier weer kunnen bereiken.",
    "De aannemer heeft {day} de bouwweg bij {place} aangelegd met {material}.",
    "In {place} is de informatieavond over {phase} verplaatst naar {day}.",
    "De kabels van het elektriciteitsnet bij {place} liggen dieper dan op de tekening.",
    "Het gemaal bij {place} draait tijdens {phase} op een tijdelijke pomp.",
    "Bij {place} zijn {n} bomen gekapt; er worden er elders twee keer zoveel teruggeplant.",
    "De snelheid op de {road} is tijdelijk verlaagd naar dertig kilometer per uur.",
]

HANDWRITTEN = [
    "Goedemorgen allemaal, welkom. Wilt u uw telefoon op stil zetten? Dank u wel.",
    "De toiletten zijn aan het eind van de gang, rechts naast de garderobe.",
    "We hebben nog vijf minuten voor vragen, daarna gaan we naar de volgende spreker.",
    "Kunt u mij achterin goed verstaan? Anders doe ik de microfoon wat dichter bij.",
    "De lunch is om half een in de foyer; er zijn ook vegetarische broodjes.",
    "Vergeet niet na afloop het evaluatieformulier in te vullen, dat ligt op uw stoel.",
    "Mijn naam is Jan, ik ben werkvoorbereider en ik werk hier nu ongeveer twee jaar.",
    "Ik ga even terug naar de vorige dia, die sloeg ik per ongeluk over.",
    "Het parkeerterrein achter het gebouw is vandaag helaas vol, u kunt uitwijken naar de overkant.",
    "Sorry, de beamer doet het even niet. Momentje, we proberen het opnieuw.",
    "Dan geef ik nu het woord aan de projectleider, die vertelt over de techniek.",
    "De presentaties worden na afloop naar alle deelnemers gemaild.",
    "Wie heeft er vanochtend last gehad van de file op de A15? Ik zie veel handen.",
    "De koffie staat klaar in de hal, we gaan om kwart over elf verder.",
    "Er ligt een lijst bij de ingang waarop u zich kunt inschrijven voor de excursie naar de dijk.",
    "Voor de excursie zijn laarzen nodig; die liggen in de bus klaar, in alle maten.",
    "We rijden zo met de bus naar het werk, dat is een kwartiertje.",
    "De dijk is hier ongeveer vijf meter hoog, en het water staat vandaag vrij laag.",
    "Een dijkversterking bestaat grofweg uit een verkenning, een planuitwerking en de realisatie.",
    "Piping is het verschijnsel dat water onder de dijk door stroomt en zand meeneemt.",
    "Macrostabiliteit gaat over de vraag of het talud bij hoogwater niet afschuift.",
    "De nieuwe normering gaat uit van overstromingskansen in plaats van overschrijdingskansen.",
    "Met een verticaal zanddicht geotextiel voorkomen we dat er zand onder de dijk wegspoelt.",
    "Het asfalt wordt in twee lagen aangebracht: eerst een onderlaag, dan een deklaag.",
    "De damwand is op sommige plekken tot twintig meter diep de grond in geheid.",
    "Bij het heien meten we de trillingen bij de huizen, zodat er geen schade ontstaat.",
    "De monitoring loopt nog vijf jaar door na de oplevering.",
    "In de winter werken we niet aan de buitenkant van de dijk vanwege het hoogwaterseizoen.",
    "Het stormseizoen loopt van oktober tot april; dan mag de dijk niet open liggen.",
    "De kleilaag moet goed verdicht worden, anders zakt hij later nog in.",
    "Voor het transport over de dijk gebruiken we rijplaten, zodat de berm niet kapot gaat.",
    "De vergunning schrijft voor dat we buiten het broedseizoen maaien.",
    "Er is een archeologische vondst gedaan: resten van een oude boerderij uit de zeventiende eeuw.",
    "De fietsers worden omgeleid via het dorp, met gele borden langs de route.",
    "Het bouwverkeer rijdt niet door de dorpskern en niet langs de school tussen acht en half negen.",
    "Het waterpeil van de rivier wordt elk uur gemeten bij de sluis.",
    "We hebben een proefvak aangelegd om te zien hoe de nieuwe grassoorten aanslaan.",
    "Voor de berekening gebruiken we de schematiseringshandleiding van het rijk.",
    "De bestaande bekleding van basalt wordt hergebruikt op een ander traject.",
    "De bouwkeet staat vanaf maandag bij de sluis, naast de parkeerplaats.",
    "Het ontwerp is getoetst door een onafhankelijk ingenieursbureau.",
    "De aanbesteding van het volgende deel loopt nog, daar kan ik nu niets over zeggen.",
    "Het budget voor het onderhoud zit in een aparte begroting van het waterschap.",
    "De boer aan de overkant heeft last van kwelwater in zijn weiland.",
    "Elke woensdag is er een spreekuur in de keet voor vragen over schade aan woningen.",
    "De drone-opnames laten mooi zien hoe de dijk er nu bij ligt.",
    "We hebben het talud flauwer gemaakt: van één op twee naar één op drie.",
    "De sloot aan de binnenkant wordt gedempt en iets verderop opnieuw gegraven.",
    "De rivier was vorige winter hoger dan in twintig jaar, maar de dijk hield het goed.",
    "Het veer naar de overkant vaart weer volgens de normale dienstregeling.",
    "De bomen langs de dijk zijn geïnventariseerd op vleermuizen en uilen.",
    "Het is vandaag precies een jaar geleden dat de eerste schop de grond in ging.",
    "We moeten de presentatie iets inkorten, want we lopen een kwartier uit.",
    "Ik had eigenlijk nog een filmpje, maar dat laat ik vanwege de tijd even zitten.",
    "Mooi weer vandaag trouwens, dat hebben we wel anders gehad op de dijk.",
    "Mijn collega kon er helaas niet bij zijn, ze is ziek, dus ik doe haar deel ook.",
    "Het schema hangt achter in de zaal, daar kunt u straks even naar kijken.",
    "De toegangspasjes kunt u na afloop inleveren bij de receptie.",
    "In het begin van het project hebben we vooral veel gemeten en geboord.",
    "De sonderingen laten een slappe veenlaag zien tussen twee en vier meter.",
    "Er komen nieuwe lantaarnpalen langs de dijkweg, met ledverlichting die de vleermuizen niet stoort.",
    "De werkzaamheden aan het fietspad worden in het weekend uitgevoerd, om de overlast te beperken.",
    "Het verkeersplan is samen met de gemeente en de politie opgesteld.",
    "Tijdens de kerstvakantie ligt het werk twee weken stil.",
    "Het materieel wordt 's nachts achter een hek gezet, vanwege diefstal van diesel.",
    "Het volgende traject sluit aan bij de versterking die al in uitvoering is.",
    "De nieuwe kade is tachtig centimeter hoger dan de oude.",
    "Het onderzoek naar niet-gesprongen explosieven heeft niets opgeleverd.",
    "De kabels van de glasvezel zijn door de aannemer van de gemeente verlegd.",
    "Het tracé van de nieuwe leiding loopt parallel aan de dijk.",
    "Ik wil iedereen bedanken voor de komst, en een goede reis naar huis.",
    "Het is druk op de weg vanavond, houd daar rekening mee.",
    "Het regent, dus de excursie gaat in aangepaste vorm door: we blijven bij de bus.",
    "De microfoon gaat even rond voor wie een vraag heeft.",
    "De maquette van de nieuwe dijk staat bij de ingang, kijkt u gerust.",
    "We doen nu eerst een korte pauze van tien minuten.",
    "Het geluid in de zaal is wat zacht, ik zet het iets harder.",
    "Het project telt in totaal zestien kilometer dijk en een stuk of tien kunstwerken.",
    "Een kunstwerk is in dit vak geen schilderij maar een sluis, gemaal of duiker.",
    "De duikers onder de dijk worden vervangen door exemplaren met een terugslagklep.",
    "De nieuwe fietsbrug is in één nacht ingevaren met een ponton.",
    "Het grondverzet gebeurt met kiepwagens die over een eigen bouwweg rijden.",
    "De verkeersregelaars staan bij de kruising zolang de vrachtwagens rijden.",
    "Voor de omwonenden is een nieuwsbrief over de planning van de werkzaamheden uitgegeven.",
    "De hoogte van de dijk wordt bepaald door de maatgevende waterstand plus een toeslag.",
    "De grondmonsters gaan naar het laboratorium voor een samendrukkingsproef.",
    "Het is een kwestie van meten, rekenen en dan nog eens meten.",
    "De GPS op de graafmachine stuurt de bak op een paar centimeter nauwkeurig.",
    "Het werk op dit deel wordt in het najaar afgerond, als alles meezit.",
    "Vanwege de stikstofregels moeten we elektrisch materieel inzetten waar het kan.",
    "De accu's van de elektrische graafmachine worden 's nachts op de bouwplaats opgeladen.",
    "De klei komt uit een put in de uiterwaard, die daarna natuur wordt.",
    "Voor de dassen zijn tunnels onder de weg aangelegd.",
    "De damwand wordt trillingsvrij gedrukt in plaats van geheid, vanwege de monumenten.",
    "Het hoogteverschil tussen de kruin en het maaiveld is hier ongeveer zes meter.",
    "Goedenavond, fijn dat u ondanks het weer bent gekomen.",
    "Heeft iedereen een kopje koffie of thee? Dan beginnen we.",
    "Ik zie dat we nog wat stoelen vooraan vrij hebben, schuift u gerust door.",
    "Over tien minuten vertrekt de bus, wilt u uw jas alvast pakken?",
    "De wifi-code staat op het scherm achter mij.",
    "Het programma van vandaag vindt u op de achterkant van uw naambadge.",
]


def lines(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = list(HANDWRITTEN)
    seen = set(out)
    while len(out) < n:
        template = rng.choice(TEMPLATES)
        place, place2 = rng.sample(PLACES, 2)
        text = template.format(
            place=place,
            place2=place2,
            part=rng.choice(PARTS),
            action=rng.choice(ACTIONS),
            reason=rng.choice(REASONS),
            phase=rng.choice(PHASES),
            weather=rng.choice(WEATHER),
            effect=rng.choice(WEATHER_EFFECTS),
            road=rng.choice(ROADS),
            traffic=rng.choice(TRAFFIC),
            permit=rng.choice(PERMITS),
            status=rng.choice(PERMIT_STATUS),
            n=rng.choice(NUMBERS),
            day=rng.choice(DAYS),
            material=rng.choice(MATERIALS),
        )
        text = text[0].upper() + text[1:]
        if rng.random() < 0.35:  # two sentences, as a fragment of a talk usually is
            text += " " + rng.choice(HANDWRITTEN[17:])
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    target = Path(__file__).with_name("distractors.jsonl")
    with target.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(lines(n), start=1):
            fh.write(
                json.dumps({"id": f"x{i:04d}", "text": text, "ingredients": []}, ensure_ascii=False)
                + "\n"
            )


if __name__ == "__main__":
    main()
