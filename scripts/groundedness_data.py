"""A labelled groundedness set built by perturbing grounded answers (TEAM-WRITTEN texts).

    python scripts/groundedness_data.py [--out groundedness_labelled.jsonl]

Every context and answer below was written by the llmscope team for this purpose (QA over short
passages, and summaries of them). Each pair has two grounded answers (one close to the passage's
words, one paraphrased). Hallucinated variants are made from the grounded answers by one edit each,
one kind at a time, so the ROC AUC can be reported per kind:

* ``number``   a figure changed (330 -> 350, 1889 -> 1891)
* ``date``     a month or weekday changed
* ``entity``   a name replaced by one the passage never mentions
* ``negation`` a "not" inserted after the first auxiliary, or an existing negation removed
* ``antonym``  a word replaced by its antonym (increase/decrease, before/after, ...)
* ``appended`` a fluent, unsupported sentence appended to a grounded answer

Rows: ``{"context", "answer", "label": 1 grounded | 0 hallucinated, "kind": "grounded" | <perturbation>,
"task": "qa" | "summary", "pair": i}``. ``build()`` is what benchmarks/detectors.py and the tests use.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

PAIRS: list[tuple[str, str, str, str]] = [
    # (task, context, grounded answer 1, grounded answer 2)
    (
        "qa",
        "The Halden bridge opened in 1937 and spans 1,280 metres across the bay. It carries six lanes of traffic and was designed by the engineer Marta Lind. Tolls were abolished in 2004.",
        "The Halden bridge is 1,280 metres long and opened in 1937.",
        "Marta Lind designed the bridge, which has carried six lanes since it opened in 1937.",
    ),
    (
        "qa",
        "Customers can return items within 30 days of delivery. Refunds are issued to the original payment method within 5 business days. Items bought on sale are not eligible for a refund but can be exchanged.",
        "You can return items within 30 days, and the refund arrives within 5 business days.",
        "Sale items are not eligible for a refund, but they can be exchanged.",
    ),
    (
        "summary",
        "Revenue rose 12% to $4.2 billion in the third quarter, driven by cloud services. Operating costs increased 8%, mainly because of higher energy prices. The company expects revenue growth to slow in the fourth quarter.",
        "Third-quarter revenue rose 12% to $4.2 billion thanks to cloud services, while costs increased 8%.",
        "The company expects growth to slow in the fourth quarter after revenue rose 12%.",
    ),
    (
        "qa",
        "The Pro plan costs 12 euros per month and includes 100 GB of storage. The Team plan costs 30 euros per month for up to five users. Both plans can be cancelled at any time.",
        "The Pro plan costs 12 euros a month with 100 GB of storage.",
        "The Team plan is 30 euros per month for up to five users, and it can be cancelled at any time.",
    ),
    (
        "summary",
        "Heavy rain flooded the northern districts on Tuesday. About 3,000 residents were evacuated and two schools were closed. The river level fell on Thursday and most roads reopened.",
        "Heavy rain flooded the northern districts on Tuesday and about 3,000 residents were evacuated.",
        "Two schools closed after the flooding, and most roads reopened on Thursday when the river level fell.",
    ),
    (
        "qa",
        "The museum is open from 9 am to 6 pm, Tuesday to Sunday. It is closed on Mondays. Entry is free for children under 12, and adults pay 15 euros.",
        "The museum opens at 9 am and closes at 6 pm, and it is closed on Mondays.",
        "Children under 12 enter for free, while adults pay 15 euros.",
    ),
    (
        "qa",
        "Ada Lovelace wrote the first published algorithm intended for Charles Babbage's Analytical Engine in 1843. She was the daughter of the poet Lord Byron.",
        "Ada Lovelace published the first algorithm for the Analytical Engine in 1843.",
        "She was Lord Byron's daughter and wrote an algorithm for Charles Babbage's machine.",
    ),
    (
        "summary",
        "The city council approved a new cycling plan on Monday. The plan adds 40 kilometres of bike lanes by 2027 and lowers the speed limit in the centre to 30 km/h. Opposition members voted against it.",
        "The council approved a plan on Monday that adds 40 kilometres of bike lanes by 2027.",
        "The speed limit in the centre will be lowered to 30 km/h; opposition members voted against the plan.",
    ),
    (
        "qa",
        "Version 4.2 of the app requires Android 10 or later. It adds offline maps and fixes the login loop reported in version 4.1. Support for Android 9 ended in March.",
        "Version 4.2 requires Android 10 or later and adds offline maps.",
        "The update fixes the login loop from version 4.1; Android 9 support ended in March.",
    ),
    (
        "qa",
        "Mount Ostra is 4,478 metres high and was first climbed in 1865 by a team led by Edward Whymper. The north face is the steepest side.",
        "Mount Ostra is 4,478 metres high and was first climbed in 1865.",
        "Edward Whymper led the first ascent in 1865; the north face is the steepest.",
    ),
    (
        "summary",
        "The study followed 2,000 adults for ten years. Participants who walked at least 30 minutes a day had a 20% lower risk of heart disease. The effect was smaller in smokers.",
        "Over ten years, adults who walked 30 minutes a day had a 20% lower risk of heart disease.",
        "The study of 2,000 adults found a smaller effect in smokers.",
    ),
    (
        "qa",
        "Orders placed before 2 pm ship the same day. Standard delivery takes 3 to 5 business days, and express delivery takes one business day. Shipping is free for orders over 50 euros.",
        "Orders placed before 2 pm ship the same day and standard delivery takes 3 to 5 business days.",
        "Shipping is free above 50 euros, and express delivery takes one business day.",
    ),
    (
        "qa",
        "The Treaty of Velmar was signed in 1815 by twelve nations. It ended the war between Norland and Estria and created a neutral zone along the river.",
        "The Treaty of Velmar was signed in 1815 by twelve nations.",
        "It ended the war between Norland and Estria and set up a neutral zone along the river.",
    ),
    (
        "summary",
        "Shares of Brightline fell 7% after the carmaker reported lower profits. The company blamed weaker demand in Europe and said it would cut 2,500 jobs.",
        "Brightline shares fell 7% after the company reported lower profits.",
        "Blaming weaker European demand, the carmaker said it would cut 2,500 jobs.",
    ),
    (
        "qa",
        "The library lends up to ten books at a time for three weeks. Loans can be renewed twice online. Late returns cost 20 cents per day.",
        "You can borrow up to ten books for three weeks.",
        "Loans can be renewed twice online, and late returns cost 20 cents a day.",
    ),
    (
        "qa",
        "The Aurora satellite was launched in April 2021 from Kourou. It measures sea levels with a radar altimeter and is expected to operate until 2031.",
        "The Aurora satellite was launched in April 2021 from Kourou.",
        "It measures sea levels with a radar altimeter and should operate until 2031.",
    ),
    (
        "summary",
        "The festival drew 85,000 visitors over three days, more than last year. Ticket prices were kept at 60 euros. Organisers said next year's edition will move to June.",
        "The three-day festival drew 85,000 visitors, more than last year.",
        "Tickets stayed at 60 euros, and next year's edition will move to June.",
    ),
    (
        "qa",
        "To reset your password, open Settings and choose Security. A reset link is sent to your e-mail address and expires after 24 hours. The link can be used only once.",
        "Open Settings and choose Security to reset your password.",
        "The reset link is sent by e-mail, expires after 24 hours and works only once.",
    ),
    (
        "qa",
        "The Kestrel river is 620 kilometres long and flows into the Baltic Sea near the port of Rilsk. Its largest tributary is the Morva.",
        "The Kestrel river is 620 kilometres long and flows into the Baltic Sea.",
        "The Morva is its largest tributary, and the river reaches the sea near Rilsk.",
    ),
    (
        "summary",
        "Inflation fell to 2.4% in May, down from 3.1% in April. Food prices rose slightly while energy prices dropped. The central bank kept interest rates unchanged.",
        "Inflation fell to 2.4% in May from 3.1% in April.",
        "Energy prices dropped, food prices rose slightly, and the central bank kept rates unchanged.",
    ),
    (
        "qa",
        "The clinic accepts walk-in patients on weekdays from 8 am to noon. Appointments are required in the afternoon. The clinic does not treat emergencies.",
        "Walk-in patients are seen on weekdays from 8 am to noon.",
        "Afternoon visits need an appointment, and emergencies are not treated at the clinic.",
    ),
    (
        "qa",
        "Lake Varen covers 58 square kilometres and reaches a depth of 112 metres. Swimming is allowed only at the southern beaches.",
        "Lake Varen covers 58 square kilometres and is 112 metres deep.",
        "Swimming is allowed only at the southern beaches of the lake.",
    ),
    (
        "summary",
        "The school will open a new science building in September. It has eight laboratories and was funded by a grant of 6 million euros. Construction took two years.",
        "A new science building with eight laboratories opens in September.",
        "Funded by a 6 million euro grant, the building took two years to construct.",
    ),
    (
        "qa",
        "Employees receive 25 days of paid leave per year. Unused days can be carried over until March 31 of the next year. Sick leave is counted separately.",
        "Employees get 25 days of paid leave a year.",
        "Unused leave can be carried over until March 31, and sick leave is counted separately.",
    ),
]

# Written after the claim scorer's rules were frozen, and never used to change them: the less biased
# half of the measurement (``build(fresh=True)``).
PAIRS_FRESH: list[tuple[str, str, str, str]] = [
    (
        "qa",
        "The Norrvik ferry leaves every 40 minutes between 6 am and 11 pm. The crossing takes 25 minutes and bicycles travel free. Tickets are sold on board by card only.",
        "The ferry leaves every 40 minutes and the crossing takes 25 minutes.",
        "Bicycles travel free, and tickets are sold on board, by card only.",
    ),
    (
        "summary",
        "Exports from the region grew 6% last year, led by machinery and wine. Imports fell 2% as energy prices eased. The trade surplus reached 3.1 billion euros, the highest since 2015.",
        "Exports grew 6% last year, led by machinery and wine, while imports fell 2%.",
        "The trade surplus reached 3.1 billion euros, its highest since 2015.",
    ),
    (
        "qa",
        "The observatory on Mount Keld was built in 1962 by the astronomer Ingrid Solberg. Its main telescope has a 2.4-metre mirror. Public tours run on Saturdays in summer.",
        "Ingrid Solberg built the observatory on Mount Keld in 1962.",
        "The main telescope has a 2.4-metre mirror, and tours run on Saturdays in summer.",
    ),
    (
        "qa",
        "New employees must complete the security training within 14 days of their start date. The course takes about two hours and can be done online. Contractors are exempt.",
        "New employees have 14 days to complete the two-hour security training.",
        "The training can be done online, and contractors do not have to take it.",
    ),
    (
        "summary",
        "The hospital opened a new cancer wing in October with 60 beds. It was paid for by a regional fund and private donors. Waiting times for treatment are expected to drop by a third.",
        "A new 60-bed cancer wing opened at the hospital in October.",
        "Funded by a regional fund and private donors, the wing should cut waiting times by a third.",
    ),
    (
        "qa",
        "The warranty covers manufacturing defects for two years from the date of purchase. It does not cover water damage or batteries. Repairs are free within the warranty period.",
        "The warranty covers manufacturing defects for two years.",
        "Water damage and batteries are not covered, and repairs under warranty are free.",
    ),
    (
        "summary",
        "Fog closed the airport for six hours on Sunday morning. Around 120 flights were cancelled and 40 diverted to Malmo. Operations returned to normal by the evening.",
        "Fog closed the airport for six hours on Sunday morning and about 120 flights were cancelled.",
        "Forty flights were diverted to Malmo, and operations were normal again by the evening.",
    ),
    (
        "qa",
        "The recycling centre accepts glass, paper and metal every day except Wednesday. Electronic waste is collected on the first Saturday of each month. Garden waste is not accepted.",
        "The recycling centre takes glass, paper and metal every day except Wednesday.",
        "Electronic waste is collected on the first Saturday of the month; garden waste is not accepted.",
    ),
]

OTHER_ENTITIES = [
    "Oslo",
    "Henrik Bauer",
    "Microsoft",
    "Lisbon",
    "Sofia Marin",
    "Toyota",
    "Kyoto",
    "UNESCO",
    "Pierre Dumas",
    "Canada",
    "Amazon",
    "Helsinki",
    "Rosa Vidal",
    "NASA",
    "Bavaria",
    "Siemens",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
APPENDED = [
    "The project was later praised by the United Nations as a model for other regions.",
    "Critics argue that the decision was driven mainly by pressure from foreign investors.",
    "A second phase worth 300 million euros is planned for the next decade.",
    "Experts warn that the figures could be revised sharply next year.",
    "The founder later moved to Singapore to run a chain of restaurants.",
    "Most customers say they prefer the older version of the service.",
    "It was also the first of its kind to receive an international design award.",
    "Local residents have protested against the plan every weekend since then.",
]
ANTONYM_SWAPS = [("rose", "fell"), ("fell", "rose"), ("increased", "decreased"), ("lower", "higher"),
                 ("higher", "lower"), ("before", "after"), ("after", "before"), ("more", "fewer"),
                 ("smaller", "larger"), ("first", "last"), ("steepest", "gentlest"), ("allowed", "prohibited"),
                 ("free", "paid"), ("dropped", "rose"), ("open", "closed"), ("opens", "closes"), ("closes", "opens"),
                 ("weaker", "stronger"), ("abolished", "introduced"), ("approved", "rejected"), ("ended", "began"),
                 ("required", "optional"), ("same", "next"), ("largest", "smallest"), ("lowered", "raised"),
                 ("southern", "northern"), ("north", "south"), ("slow", "accelerate")]  # fmt: skip
AUX = re.compile(r"\b(is|was|are|were|can|has|have|had|will|does|did)\b")


def _number(rng: random.Random, a: str) -> str | None:
    nums = list(re.finditer(r"\d[\d,.]*", a))
    if not nums:
        return None
    m = rng.choice(nums)
    raw = m.group(0).rstrip(".,")
    v = float(raw.replace(",", ""))
    nv = v + rng.choice([-3, -2, -1, 1, 2, 5, 10]) if v > 20 else v + rng.choice([1, 2, 3])
    new = f"{int(nv):,}" if "," in raw else (str(int(nv)) if nv == int(nv) else f"{nv:.1f}")
    return a[: m.start()] + new + a[m.start() + len(raw) :]


def _date(rng: random.Random, a: str) -> str | None:
    for bank in (MONTHS, DAYS):
        for w in bank:
            if re.search(rf"\b{w}\b", a):
                return re.sub(rf"\b{w}\b", rng.choice([x for x in bank if x != w]), a, count=1)
    return None


def _entity(rng: random.Random, a: str, context: str) -> str | None:
    cands = [m for m in re.finditer(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)*", a) if m.start() > 0]
    if not cands:
        return None
    m = rng.choice(cands)
    other = rng.choice([e for e in OTHER_ENTITIES if e.lower() not in context.lower()])
    return a[: m.start()] + other + a[m.end() :]


def _negation(rng: random.Random, a: str) -> str | None:
    if re.search(r"\bnot\b", a):
        return re.sub(r"\s+not\b", "", a, count=1)
    m = AUX.search(a)
    if not m:
        return None
    return a[: m.end()] + " not" + a[m.end() :]


def _antonym(rng: random.Random, a: str) -> str | None:
    opts = [(w, x) for w, x in ANTONYM_SWAPS if re.search(rf"\b{w}\b", a)]
    if not opts:
        return None
    w, x = rng.choice(opts)
    return re.sub(rf"\b{w}\b", x, a, count=1)


def build(seed: int = 16, fresh: bool = False) -> list[dict]:
    """The labelled set: from :data:`PAIRS`, or from :data:`PAIRS_FRESH` with ``fresh=True``."""
    rng = random.Random(seed)
    rows = []
    for i, (task, ctx, g1, g2) in enumerate(PAIRS_FRESH if fresh else PAIRS):
        for g in (g1, g2):
            rows.append({"context": ctx, "answer": g, "label": 1, "kind": "grounded", "task": task, "pair": i})
            for kind, fn in (("number", _number), ("date", _date), ("negation", _negation), ("antonym", _antonym)):
                p = fn(rng, g)
                if p and p != g:
                    rows.append({"context": ctx, "answer": p, "label": 0, "kind": kind, "task": task, "pair": i})
            p = _entity(rng, g, ctx)
            if p and p != g:
                rows.append({"context": ctx, "answer": p, "label": 0, "kind": "entity", "task": task, "pair": i})
            rows.append(
                {"context": ctx, "answer": g + " " + rng.choice(APPENDED), "label": 0, "kind": "appended",
                 "task": task, "pair": i}
            )  # fmt: skip
    return rows


def auc(pos: list[float], neg: list[float]) -> float:
    """P(score of a grounded answer > score of a hallucinated one), ties count half."""
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    rows = build()
    if args.out:
        Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    from collections import Counter

    print(len(rows), Counter(r["kind"] for r in rows))


if __name__ == "__main__":
    main()
