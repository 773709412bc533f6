"""Demo data for a new sandbox database: the documents' sample customer and made-up ones.

Deterministic (one `random.Random` with a fixed seed), so every new database holds the
same customers. Nothing here is real: names are common Indian first and last names put
together at random, emails are on example.com/.org/.net, document numbers are made to
pass `wibmo_cli.validate` (the same checks the sandbox applies to updates).

A few customers are fixed on purpose, for the error answers they trigger:
`DUPLICATE_MOBILE` is on two customers (1237), `DUPLICATE_EMAIL` on two (1307), and
`CARDLESS_CUSTOMER_ID` has no card (1306 on update). After the generated ones come
`wallets.WALLETS`, fixed too: wallets with sub-wallets and `cardLinked`.

`GENERATED` customers are made unless a database asks for another count (`wibmo
sandbox --customers N`, for load and scale runs): the same draws in the same order, so
the first 240 of any count are the default seed's 240, and the fixed customers are
there whatever the count (`MIN_GENERATED` keeps the first ten, which hold them and
cover every KYC profile). URNs rise from 1000058916 by 1-4000 a card: `MAX_GENERATED`
keeps them below the wallets' 2000000011.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

from wibmo_cli import validate
from wibmo_cli.errors import InputError
from wibmo_cli.sandbox.model import Card, Customer, Document
from wibmo_cli.sandbox.wallets import WALLETS
from wibmo_cli.sandbox.wallets import records as wallet_records

SEED: Final = 20221116
GENERATED: Final = 240
MIN_GENERATED: Final = 10
MAX_GENERATED: Final = 100_000

SAMPLE_URN: Final = 389
SAMPLE_MOBILE: Final = "9897123456"
SAMPLE_CUSTOMER_ID: Final = "custid_V3_juyWqcUUxz"
DUPLICATE_MOBILE: Final = "9811100001"
DUPLICATE_EMAIL: Final = "family.account@example.com"
CARDLESS_CUSTOMER_ID: Final = "IN0000000005"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


MALE: Final = _words(
    "Aarav Vivaan Aditya Arjun Rohan Rahul Amit Sanjay Vikram Karan Manoj Suresh "
    "Rajesh Anil Deepak Harish Naveen Pranav Siddharth Farhan Imran Gurpreet "
    "Harpreet Joseph Abhishek Nikhil Varun Kunal Ayaan Ishaan Mohan Prakash Venkat "
    "Srinivas Ravi "
)
FEMALE: Final = _words(
    "Aanya Diya Ananya Priya Sneha Pooja Kavya Meera Lakshmi Divya Neha Shreya "
    "Anjali Swati Nisha Ritu Sunita Kiran Fatima Ayesha Simran Manpreet Mary Radhika "
    "Isha Tanvi Aishwarya Nandini Sarita Geeta Bhavna Pallavi Revathi Sowmya Zoya "
)
LAST: Final = _words(
    "Sharma Verma Gupta Iyer Nair Reddy Rao Patel Shah Mehta Singh Kaur Das Bose "
    "Chatterjee Mukherjee Banerjee Pillai Menon Kulkarni Deshpande Joshi Pandey "
    "Mishra Tiwari Yadav Khan Ansari Fernandes DSouza Naidu Hegde Shetty Chauhan "
    "Thakur Malhotra Kapoor Agarwal Jain Bhat "
)
STREETS: Final = (
    "MG Road",
    "Residency Road",
    "Link Road",
    "Station Road",
    "Park Street",
    "Church Street",
    "Gandhi Nagar Main Road",
    "Nehru Street",
    "Lake View Road",
    "Temple Road",
)
CITIES: Final = (
    ("Bengaluru", "Karnataka", "560"),
    ("Mumbai", "Maharashtra", "400"),
    ("Pune", "Maharashtra", "411"),
    ("Chennai", "Tamil Nadu", "600"),
    ("Hyderabad", "Telangana", "500"),
    ("Kolkata", "West Bengal", "700"),
    ("New Delhi", "Delhi", "110"),
    ("Jaipur", "Rajasthan", "302"),
    ("Lucknow", "Uttar Pradesh", "226"),
    ("Kochi", "Kerala", "682"),
    ("Ahmedabad", "Gujarat", "380"),
    ("Chandigarh", "Chandigarh", "160"),
)
STATE_CODES: Final = ("KA", "MH", "TN", "TS", "WB", "DL", "RJ", "UP", "KL", "GJ", "CH")
# cardStatus: 0 is Active (retrieve document); the others are undocumented, so made up.
STATUSES: Final = (
    (0, "Active"),
    (1, "Inactive"),
    (2, "Blocked"),
    (3, "Lost"),
    (4, "Stolen"),
    (5, "Expired"),
    (6, "Closed"),
)
STATUS_WEIGHTS: Final = (70, 6, 6, 4, 3, 6, 5)
CARD_TYPES: Final = ("GPR CARD", "TRAVEL CARD", "GIFT CARD", "WALLET", "MEAL CARD")
BINS: Final = ("179947", "479947", "608326", "652150")
ENTITIES: Final = ("FintechA", "MG ROAD", "KORAMANGALA", "ANDHERI WEST", "SALT LAKE")
PROFILES: Final = (30, 150, 300, 1, 200)
PROFILE_WEIGHTS: Final = (35, 35, 14, 8, 8)
DOMAINS: Final = ("example.com", "example.org", "example.net")


@dataclass
class SeedData:
    customers: list[Customer] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)


def sample(data: SeedData) -> None:
    """The retrieve document's success sample, exactly."""
    data.customers.append(
        Customer(
            id=1,
            customer_id=SAMPLE_CUSTOMER_ID,
            first_name="ABC",
            last_name="LastName",
            mobile=SAMPLE_MOBILE,
            email="abc@xyz.com",
            alternate_email="",
            dob="19930711",
            gender="",
            address="",
            address1="",
            address2="",
            address3="",
            city="",
            state="",
            country="",
            zip_code="",
            pan_valid=False,
            re_kyc=False,
            extra="{}",
            created_on="20221116",
            updated_on="20221116",
        )
    )
    data.cards.append(
        Card(
            SAMPLE_URN,
            1,
            "179947 XXXXXX 4216",
            "TRAVEL CARD",
            0,
            "Active",
            "FintechA",
            150,
            100000,
            "20221116",
            "20221116",
        )
    )
    for doc_type, number in (
        ("Passport", "ABC0123456"),
        ("Aadhar", "1234 5678 6015"),
        ("VoterId", "YCV0123456"),
        ("Pancard", "ABCDE1234A"),
        ("Driverlicense", "DL60 20211234567"),
    ):
        data.documents.append(Document(1, doc_type, number))


class _Maker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.mobiles: set[str] = {SAMPLE_MOBILE, DUPLICATE_MOBILE}
        self.mobiles.update(wallet.mobile for wallet in WALLETS)
        self.urn = 1000058915

    def digits(self, count: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(count))

    def letters(self, count: int, alphabet: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ") -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(count))

    def day(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))

    def mobile(self) -> str:
        while True:
            number = self.rng.choice("6789") + self.digits(9)
            if number not in self.mobiles:
                self.mobiles.add(number)
                return validate.mobile(number, prefix="")

    def next_urn(self) -> int:
        self.urn += self.rng.randint(1, 4000)
        return self.urn

    def document(self, doc_type: str, surname: str) -> tuple[str, str]:
        makers: dict[str, Callable[[], str]] = {
            "Aadhar": self._aadhaar,
            "Pancard": lambda: (
                self.letters(3) + "P" + surname[0].upper() + self.digits(4) + self.letters(1)
            ),
            "VoterId": lambda: self.letters(3) + self.digits(7),
            "Passport": lambda: self.letters(1, "ABCDEFGHJKLMNPRSTUVW") + "1" + self.digits(6),
            "Driverlicense": lambda: (
                f"{self.rng.choice(STATE_CODES)}{self.digits(2)} "
                f"{self.rng.randint(1995, 2023)}{self.digits(7)}"
            ),
            "jobcard": lambda: (
                f"{self.rng.choice(STATE_CODES)}-{self.digits(2)}-"
                f"{self.digits(3)}-{self.digits(3)}-{self.digits(3)}/{self.rng.randint(1, 99)}"
            ),
        }
        while True:
            try:
                return validate.document(doc_type, makers[doc_type]())
            except InputError:  # e.g. a number that happens to break a rule: draw again
                continue

    def _aadhaar(self) -> str:
        body = self.rng.choice("23456789") + self.digits(10)
        return body + validate.verhoeff_check_digit(body)


def checked_count(count: int) -> int:
    """``count`` if a seed can make that many customers, else `ValueError` saying why."""
    if not MIN_GENERATED <= count <= MAX_GENERATED:
        raise ValueError(f"customers must be {MIN_GENERATED:,}-{MAX_GENERATED:,} (got {count:,})")
    return count


def generated(data: SeedData, rng: random.Random, count: int = GENERATED) -> None:
    """Made-up customers with one to three cards each, covering every profile and state."""
    make = _Maker(rng)
    for index in range(checked_count(count)):
        rowid = index + 2
        female = rng.random() < 0.5
        first = rng.choice(FEMALE if female else MALE)
        last = rng.choice(LAST)
        city, state, pin = rng.choice(CITIES)
        mobile = DUPLICATE_MOBILE if index in (0, 1) else make.mobile()
        email = (
            DUPLICATE_EMAIL
            if index in (2, 3)
            else f"{first}.{last}{index}@{rng.choice(DOMAINS)}".lower()
        )
        created = make.day(date(2019, 1, 1), date(2024, 6, 30))
        updated = created + timedelta(days=rng.randrange(400))
        profile = PROFILES[index % 5] if index < 10 else rng.choices(PROFILES, PROFILE_WEIGHTS)[0]
        data.customers.append(
            Customer(
                id=rowid,
                customer_id=f"IN{index + 1:010d}",
                first_name=first,
                last_name=last,
                mobile=mobile,
                email=email,
                alternate_email=f"{first}{rowid}@example.net".lower() if rng.random() < 0.2 else "",
                dob=make.day(date(1950, 1, 1), date(2005, 12, 31)).strftime("%Y%m%d"),
                gender="Female" if female else "Male",
                address=f"{rng.randint(1, 999)}, {rng.choice(STREETS)}",
                address1=f"#{rng.randint(1, 200)}, {last} Nilaya",
                address2=rng.choice(("", "2nd Cross", "Near Bus Stand", "Opp. City Mall")),
                address3="",
                city=city,
                state=state,
                country="India",
                zip_code=pin + f"{rng.randint(1, 99):03d}",
                pan_valid=False,
                re_kyc=rng.random() < 0.1,
                extra=_extra(rng, created),
                created_on=created.strftime("%Y%m%d"),
                updated_on=updated.strftime("%Y%m%d"),
            )
        )
        docs = _documents(make, profile, last)
        data.customers[-1].pan_valid = "Pancard" in docs and rng.random() < 0.8
        for doc_type, number in docs.items():
            expiry = ""
            if doc_type in validate.EXPIRING_DOCS:
                expiry = make.day(date(2024, 1, 1), date(2036, 12, 31)).strftime("%Y%m%d")
            data.documents.append(Document(rowid, doc_type, number, "India", expiry))
        if f"IN{index + 1:010d}" == CARDLESS_CUSTOMER_ID:
            continue
        for position in range(rng.choices((1, 2, 3), (55, 30, 15))[0]):
            status, description = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
            issued = created + timedelta(days=position * rng.randrange(30, 300))
            bin_ = rng.choice(BINS)
            data.cards.append(
                Card(
                    urn=make.next_urn(),
                    customer=rowid,
                    card_number=f"{bin_} XXXXXX {make.digits(4)}",
                    card_type=rng.choice(CARD_TYPES),
                    status=status,
                    status_description=description,
                    entity_name=rng.choice(ENTITIES),
                    profile_id=profile,
                    balance=0 if rng.random() < 0.15 or status == 6 else rng.randint(1, 5_000_000),
                    created_on=issued.strftime("%Y%m%d"),
                    updated_on=max(issued, updated).strftime("%Y%m%d"),
                )
            )


def _documents(make: _Maker, profile: int, surname: str) -> dict[str, str]:
    rng = make.rng
    wanted: list[str] = []
    if profile in (150, 200):
        wanted = ["Aadhar", "Pancard"] if profile == 150 else ["Aadhar"]
        wanted += rng.sample(("Passport", "Driverlicense", "VoterId"), rng.randrange(3))
    elif profile in (1, 30):
        wanted = [rng.choice(("Pancard", "VoterId", "jobcard", "Passport"))]
    elif rng.random() < 0.2:
        wanted = ["Pancard"]
    docs: dict[str, str] = {}
    for doc_type in wanted:
        canonical, number = make.document(doc_type, surname)
        docs[canonical] = number
    return docs


def _extra(rng: random.Random, created: date) -> str:
    """Newer optional fields some customers carry (public-notes.md, Response shapes)."""
    if rng.random() >= 0.35:
        return "{}"
    extra: dict[str, object] = {
        "riskCategory": rng.choice(("LOW", "LOW", "MEDIUM", "HIGH")),
        "riskScore": rng.randint(1, 100),
    }
    if rng.random() < 0.5:
        extra["rekycValidity"] = (created + timedelta(days=730)).strftime("%d-%m-%Y")
    if rng.random() < 0.3:
        extra["form60"] = True
        extra["form60Validity"] = (created + timedelta(days=365)).strftime("%d-%m-%Y")
    if rng.random() < 0.3:
        extra["cardLinked"] = rng.random() < 0.5
    return json.dumps(extra, separators=(",", ":"))


def build(customers: int = GENERATED) -> SeedData:
    """Every record of a new database with ``customers`` generated ones, the same on
    every call."""
    data = SeedData()
    sample(data)
    generated(data, random.Random(SEED), customers)
    wallets, cards, documents = wallet_records(first_id=len(data.customers) + 1)
    data.customers += wallets
    data.cards += cards
    data.documents += documents
    return data
