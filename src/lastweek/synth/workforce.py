"""A deterministic synthetic federal workforce: a roster CSV for `import-roster`, from 100 people to the
whole 2.3 million strong civilian workforce.

Each agency is a reporting tree under its head: top-level units (components and staff offices) whose
supervisors report to the head, regions and field offices for the components that have them, then
offices, divisions, branches, sections and teams, at most six unit levels deep. Every agency draws from
its own `random.Random`, seeded with the seed and the agency code, so its names, units and places do not
change when another agency is added or resized. Rows stream out agency by agency: only one agency's
unit plan (about one unit per nine people) is held at a time.
"""

from __future__ import annotations

import csv
import math
import os
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import cycle, islice
from typing import TextIO

from lastweek.org.roster import ROSTER_COLUMNS, UNIT_SEPARATOR
from lastweek.synth.agencies import AGENCIES, GENERIC_FUNCTIONS, Agency, Function, TopUnit

MAX_DEPTH = 6  # unit levels below the agency
MIN_SPAN, MAX_SPAN = 5, 15  # direct reports of a supervisor, tiny units at the edges aside
SMALLEST_UNIT = 8  # people in a unit (supervisor included) when there are enough to go round
TYPICAL_LEAF = 10  # people in a bottom unit, which sets how fast big subtrees branch
MIN_AGENCY_SIZE = 8
LARGEST_AGENCIES = 25  # the ones taken first; the rest of the table is the small tail
MAX_EMPLOYEES = 10_000_000
FIELD_SHARE = 0.75  # of a field component's child units, how many are regions
ON_LEAVE_SHARE = 0.025
REMOTE_SHARE = 0.08  # staff whose duty station is not their unit's
PROGRESS_EVERY = 10_000

# Employee numbers are 9 digits: a row's position i maps to 10^8 + (i * stride + offset) mod 9*10^8.
# The stride is prime, hence coprime with the modulus, so the map is a bijection: unique, and random-looking.
_NUMBER_BASE, _NUMBER_SPAN, _NUMBER_STRIDE = 100_000_000, 900_000_000, 479_001_599


def _capacities() -> list[int]:
    """The most people a subtree of n unit levels can hold, for n = 0..MAX_DEPTH: every supervisor
    with MAX_SPAN reports. A unit never gets more people than the levels left below it can hold."""
    capacity = [0]
    for _ in range(MAX_DEPTH):
        capacity.append(1 + MAX_SPAN * capacity[-1])
    return capacity


_CAPACITY = _capacities()


@dataclass(frozen=True, slots=True)
class RosterRow:
    employee_number: str
    first_name: str
    last_name: str
    email: str
    agency_code: str
    agency_name: str
    unit_path: str
    title: str
    manager_number: str  # "" for the agency head
    time_zone: str
    status: str


@dataclass(frozen=True, slots=True)
class DutyStation:
    city: str
    state: str
    time_zone: str
    region: str  # "" for the national capital area, where headquarters sit


def _stations(region: str, time_zone: str, cities: str) -> list[DutyStation]:
    """'City ST[ Zone]; …': the zone, when given, overrides the region's usual one."""
    stations = []
    for entry in cities.split("; "):
        city, state, *zone = entry.rsplit(" ", 2) if "/" in entry else entry.rsplit(" ", 1)
        stations.append(DutyStation(city, state, zone[0] if zone else time_zone, region))
    return stations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Real federal duty cities; the first city of a region is its hub, where regional offices sit.
DUTY_STATIONS: tuple[DutyStation, ...] = tuple(
    _stations("", "America/New_York", "Washington DC; Arlington VA; Alexandria VA; Bethesda MD; Greenbelt MD")
    + _stations("", "America/New_York", "Baltimore MD")
    + _stations(
        "Northeast Region",
        "America/New_York",
        "Boston MA; New York NY; Albany NY; Buffalo NY; Hartford CT; Providence RI; Burlington VT; Bangor ME",
    )
    + _stations(
        "Mid-Atlantic Region",
        "America/New_York",
        "Philadelphia PA; Pittsburgh PA; Newark NJ; Richmond VA; Norfolk VA; Hampton VA; Charleston WV",
    )
    + _stations(
        "Southeast Region",
        "America/New_York",
        "Atlanta GA; Miami FL; Jacksonville FL; Tampa FL; Cape Canaveral FL; Charlotte NC; Raleigh NC; "
        "Columbia SC; Nashville TN America/Chicago; Knoxville TN; Louisville KY America/Kentucky/Louisville; "
        "Huntsville AL America/Chicago; Birmingham AL America/Chicago; San Juan PR America/Puerto_Rico; "
        "Charlotte Amalie VI America/St_Thomas",
    )
    + _stations(
        "Great Lakes Region",
        "America/Chicago",
        "Chicago IL; Detroit MI America/Detroit; Cleveland OH America/New_York; "
        "Columbus OH America/New_York; Cincinnati OH America/New_York; Dayton OH America/New_York; "
        "Indianapolis IN America/Indiana/Indianapolis; Milwaukee WI; Minneapolis MN",
    )
    + _stations(
        "Heartland Region",
        "America/Chicago",
        "Kansas City MO; St. Louis MO; Omaha NE; Des Moines IA; Wichita KS; Fargo ND; Sioux Falls SD",
    )
    + _stations(
        "South Central Region",
        "America/Chicago",
        "Dallas TX; Fort Worth TX; Houston TX; San Antonio TX; Austin TX; El Paso TX America/Denver; "
        "New Orleans LA; Gulfport MS; Jackson MS; Oklahoma City OK; Little Rock AR; Memphis TN",
    )
    + _stations(
        "Rocky Mountain Region",
        "America/Denver",
        "Denver CO; Colorado Springs CO; Salt Lake City UT; Ogden UT; Albuquerque NM; "
        "Phoenix AZ America/Phoenix; Tucson AZ America/Phoenix; Boise ID America/Boise; Billings MT; "
        "Cheyenne WY",
    )
    + _stations(
        "Pacific Region",
        "America/Los_Angeles",
        "San Francisco CA; Los Angeles CA; San Diego CA; Sacramento CA; Moffett Field CA; Las Vegas NV; "
        "Honolulu HI Pacific/Honolulu; Hagatna GU Pacific/Guam",
    )
    + _stations(
        "Northwest Region",
        "America/Los_Angeles",
        "Seattle WA; Tacoma WA; Spokane WA; Portland OR; Anchorage AK America/Anchorage; "
        "Juneau AK America/Juneau",
    )
)
_STATION_INDEX = {station.city: index for index, station in enumerate(DUTY_STATIONS)}


def _regions() -> dict[str, tuple[int, ...]]:
    """Region name -> indexes of its duty stations, hub first."""
    regions: dict[str, tuple[int, ...]] = {}
    for index, station in enumerate(DUTY_STATIONS):
        if station.region:
            regions[station.region] = (*regions.get(station.region, ()), index)
    return regions


REGIONS = _regions()
_REGION_NAMES = tuple(REGIONS)

FIRST_NAMES = _words(
    """
    James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan
    Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy Matthew Betty Anthony Sandra
    Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol
    Kevin Amanda Brian Melissa George Deborah Timothy Stephanie Ronald Dorothy Jason Rebecca Edward
    Sharon Jeffrey Laura Ryan Cynthia Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan
    Brenda Stephen Emma Larry Anna Justin Pamela Scott Nicole Brandon Samantha Benjamin Katherine Samuel
    Christine Gregory Debra Alexander Rachel Patrick Carolyn Frank Janet Raymond Maria Jack Olivia
    Dennis Heather Jerry Helen Tyler Catherine Aaron Diane Jose Julie Adam Victoria Nathan Joyce Henry
    Lauren Zachary Kelly Douglas Christina Peter Ruth Kyle Joan Noah Virginia Ethan Judith Jeremy Evelyn
    Christian Hannah Walter Andrea Keith Megan Austin Cheryl Roger Jacqueline Terry Madison Sean Teresa
    Gerald Abigail Carl Sophia Dylan Martha Harold Sara Jordan Gloria Jesse Janice Bryan Kathryn
    Lawrence Ann Arthur Isabella Gabriel Judy Bruce Charlotte Logan Julia Billy Grace Alan Alice Juan
    Jean Elijah Denise Willie Frances Albert Danielle Wayne Marilyn Randy Natalie Mason Beverly Vincent
    Diana Liam Brittany Roy Theresa Bobby Kayla Caleb Alexis Bradley Doris Russell Lori Lucas Tiffany
    Carlos Luis Miguel Jorge Alejandro Ricardo Fernando Javier Roberto Eduardo Sofia Camila Valentina
    Lucia Ximena Guadalupe Rosa Carmen Alejandra Mariana Gabriela Daniela Adriana Marisol Yesenia Hector
    Raul Sergio Francisco Antonio Manuel Pedro Rafael Diego Andres Esteban Mateo Santiago Wei Ming Jing
    Xiaoling Hui Yan Jun Hiroshi Yuki Kenji Aiko Sakura Haruto Minjun Seoyeon Jiwoo Hyun Priya Anjali
    Rahul Arjun Vikram Deepa Sanjay Neha Ravi Aisha Fatima Omar Ahmed Hassan Yusuf Layla Zainab Mohammed
    Amir Nadia Samira Tariq Kwame Kofi Amara Chidi Ngozi Adebayo Oluwaseun Zuri Imani Jamal Malik
    DeShawn Darnell Tyrone Latoya Keisha Shanice Ebony Tanisha Aaliyah Jasmine Deja Trevon Marquis Andre
    Terrence Demetrius Nia Kiara Mei Thanh Minh Linh Duc Huong Quynh Bao Tuan Giovanni Marco Alessandro
    Francesca Giulia Luca Sven Erik Ingrid Astrid Lars Olga Natasha Dmitri Ivan Katarina Mikhail
    Svetlana Yaw Esi Kalani Leilani Keoni Malia Kai Tevita Ayasha Chayton Dakota Winona Tala Sage Marcus
    Derek Travis Shawn Cody Colin Connor Brendan Owen Wyatt Hunter Chase Blake Garrett Spencer Trevor
    Miles Eli Isaac Levi Ezra Asher Hudson Lincoln Everett Theodore Felix Oscar Leo Jasper Silas Maya
    Chloe Zoe Lily Ella Avery Scarlett Aria Nora Hazel Violet Aurora Stella Lucy Paisley Savannah
    Brooklyn Claire Skylar Naomi Ruby Ivy Willow Elena Ariana Gianna Leah Audrey Bella Caroline Kennedy
    Autumn Piper Peyton Riley Quinn Reese Morgan Taylor Casey Jamie Kendall Erin Tara Colleen Bridget
    Maureen Shannon Siobhan Declan Ronan Brigid Fiona
    """
)
LAST_NAMES = _words(
    """
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez
    Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark
    Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams
    Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker
    Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper
    Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James
    Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez
    Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez
    Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole
    Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens
    Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker
    Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz
    Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice
    Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley
    Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham
    Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman
    Johnston Matthews Pena Richards Contreras Willis Carpenter Lawrence Sandoval Guerrero George Chapman
    Rios Estrada Ortega Watkins Greene Nunez Wheeler Valdez Harper Burke Larson Santiago Maldonado
    Morrison Franklin Carlson Austin Dominguez Carr Lawson Jacobs O'Brien Lynch Singh Vega Bishop
    Montgomery Oliver Jensen Harvey Williamson Gilbert Dean Sims Espinoza Howell Li Wong Reid Hanson Le
    McCoy Garrett Burton Fuller Wang Weber Welch Rojas Lucas Marquez Fields Park Yang Little Banks
    Padilla Day Walsh Bowman Schultz Luna Fowler Mejia Davidson Acosta Brewer May Holland Juarez Newman
    Pearson Curtis Cortez Douglas Schneider Joseph Barrett Navarro Figueroa Keller Avila Wade Molina
    Stanley Hopkins Campos Barnett Bates Chambers Caldwell Beck Lambert Miranda Byrd Craig Ayala Lowe
    Frazier Powers Neal Leonard Gregory Carrillo Sutton Fleming Rhodes Shelton Schwartz Norris Jennings
    Watts Duran Walters Cohen McDaniel Moran Parks Steele Vaughn Becker Holt Barker Zhang Liu Huang Zhao
    Wu Zhou Xu Sun Ma Zhu Hu Lin Guo Ho Chang Tanaka Suzuki Sato Watanabe Yamamoto Nakamura Kobayashi
    Choi Jung Kang Cho Yoon Pham Hoang Vu Dang Bui Do Shah Gupta Sharma Kumar Reddy Desai Mehta Iyer
    Chowdhury Khan Ahmed Hussain Rahman Ali Hassan Abdi Mohamed Okafor Okonkwo Adeyemi Mensah Owusu
    Diallo Kamau Mwangi Haile Tesfaye Kaleikini Kahananui Akana Yazzie Begay Tsosie Benally Muller Novak
    Kowalski Nowak Ivanov Petrov Rossi Russo Ferrari Esposito Bianchi Romano Costa O'Connor Kaplan
    Goldberg Friedman Levy Katz Weiss Rosen Andersen Nielsen Larsen Johansson Lindqvist Byrne Gallagher
    Doyle Quinn Brennan Fitzgerald MacDonald Fraser Baptiste Pierre Jean-Louis Charles Toussaint DeLeon
    """
)
# Email local parts: lower case, letters only ("O'Brien" -> "obrien").
_FIRST_SLUGS = tuple("".join(c for c in name.lower() if c.isalpha()) for name in FIRST_NAMES)
_LAST_SLUGS = tuple("".join(c for c in name.lower() if c.isalpha()) for name in LAST_NAMES)

HEAD_OFFICE_TITLES = (
    "Chief of Staff",
    "Deputy Chief of Staff",
    "Senior Advisor",
    "Special Assistant",
    "Executive Assistant",
    "Senior Counselor",
    "Executive Secretary",
    "Policy Advisor",
    "Director of Scheduling",
    "Confidential Assistant",
    "White House Liaison",
    "Program Analyst",
    "Management Analyst",
    "Staff Assistant",
    "Writer-Editor",
)
_DEPUTY_TITLES = ("Deputy Director", "Management and Program Analyst", "Administrative Officer")
_REGION_DEPUTY_TITLES = (
    "Deputy Regional Director",
    "Management and Program Analyst",
    "Administrative Officer",
)
_OFFICE_NAMES = {2: "Office of {}", 3: "{} Division", 4: "{} Branch", 5: "{} Section", 6: "{} Team"}
_OFFICE_HEADS = {2: "Director", 3: "Division Director", 4: "Branch Chief", 5: "Section Chief"}
_SUPPORT_TITLE = "Program Support Assistant"
_DEFAULT_OCCUPATIONS = ("Program Analyst", "Program Specialist", "Management and Program Analyst")


@dataclass(slots=True)
class _Unit:
    """One unit of an agency's plan: where it sits, who heads it, how many staff report to the head."""

    path: str
    manager_unit: int  # index of the unit whose head this unit's head reports to; -1 for the agency head
    level: int
    kind: str  # head, top, region, field or office
    city: int  # index into DUTY_STATIONS
    function: Function | None = None
    field_office: str | None = None
    weight: float = 1.0
    staff: int = 0
    supervisor_title: str = ""
    staff_titles: tuple[str, ...] = ()  # the first staff members' titles, in order
    occupations: tuple[str, ...] = ()  # titles for the rest, drawn at random


def plan_agencies(employees: int, agencies: int | None = None) -> list[tuple[Agency, int]]:
    """The agencies in the roster, biggest first then a sample of the small tail, with headcounts
    proportional to their published sizes, each at least MIN_AGENCY_SIZE where the total allows,
    summing exactly to `employees`."""
    count = _agency_count(employees, agencies)
    chosen = _choose_agencies(count)
    floor = min(MIN_AGENCY_SIZE, employees // count)
    sizes = apportion(employees, [agency.headcount for agency in chosen], floor=floor)
    return list(zip(chosen, sizes, strict=True))


def _agency_count(employees: int, agencies: int | None) -> int:
    if not 1 <= employees <= MAX_EMPLOYEES:
        raise ValueError(f"employees must be between 1 and {MAX_EMPLOYEES:,}, not {employees:,}")
    if agencies is None:
        return min(max(employees // 200, 3), len(AGENCIES), employees)
    if not 1 <= agencies <= min(len(AGENCIES), employees):
        raise ValueError(
            f"agencies must be between 1 and {min(len(AGENCIES), employees)} "
            f"(the table has {len(AGENCIES)}; each agency needs one person), not {agencies}"
        )
    return agencies


def _choose_agencies(count: int) -> list[Agency]:
    """The largest agencies, leaving about a quarter of the places to small ones spread over the tail,
    so that even a small demo shows a commission of a few dozen people."""
    largest, tail = AGENCIES[:LARGEST_AGENCIES], AGENCIES[LARGEST_AGENCIES:]
    tail_count = len(tail) if count == len(AGENCIES) else count // 4
    major_count = min(len(largest), count - tail_count)
    tail_count = count - major_count
    return list(largest[:major_count]) + [tail[i * len(tail) // tail_count] for i in range(tail_count)]


def apportion(total: int, weights: Sequence[float], floor: int = 0, cap: int | None = None) -> list[int]:
    """Split `total` into whole numbers proportional to `weights`, each at least `floor` and at most `cap`,
    summing to `total`: the ones a bound pins stay there, the others share the rest in proportion."""
    ceiling = total if cap is None else cap
    if not floor * len(weights) <= total <= ceiling * len(weights):
        raise ValueError(f"cannot split {total} into {len(weights)} parts of {floor} to {ceiling}")
    level = _water_level(total, weights, floor, ceiling)
    shares = [min(max(level * weight, floor), ceiling) for weight in weights]
    counts = [min(max(int(share), floor), ceiling) for share in shares]
    # Hand out what rounding down left over by largest remainder (or take back float excess by smallest).
    step = 1 if total > sum(counts) else -1
    order = sorted(range(len(weights)), key=lambda index: shares[index] - counts[index], reverse=step > 0)
    for index in cycle(order):
        if sum(counts) == total:
            break
        if floor <= counts[index] + step <= ceiling:
            counts[index] += step
    return counts


def _water_level(total: int, weights: Sequence[float], floor: int, ceiling: int) -> float:
    """The factor at which sum(clamp(factor * weight, floor, ceiling)) == total."""
    level = total / sum(weights)
    if all(floor <= level * weight <= ceiling for weight in weights):
        return level  # the usual case: no bound binds

    def filled(level: float) -> float:
        return sum(min(max(level * weight, floor), ceiling) for weight in weights)

    # The sum is piecewise linear in the factor, bending where a part meets a bound: find the piece.
    low = 0.0
    for bend in sorted({floor / weight for weight in weights} | {ceiling / weight for weight in weights}):
        if filled(bend) >= total:
            break
        low = bend
    inside = (low + bend) / 2
    free = [weight for weight in weights if floor < inside * weight < ceiling]
    pinned = filled(inside) - inside * sum(free)
    return (total - pinned) / sum(free) if free else bend


class _Planner:
    """Lays out one agency's units, top down, in the order their people are written (preorder)."""

    def __init__(self, agency: Agency, rng: random.Random) -> None:
        self.agency = agency
        self.rng = rng
        self.units: list[_Unit] = []
        self.mission = agency.functions
        mission_names = {name for name, _ in agency.functions}
        self.generic = tuple(f for f in GENERIC_FUNCTIONS if f[0] not in mission_names)
        occupations = [title for _, titles in agency.functions for title in titles]
        self.mission_occupations = tuple(dict.fromkeys(occupations)) or _DEFAULT_OCCUPATIONS

    def plan(self, headcount: int) -> list[_Unit]:
        home = _STATION_INDEX[self.agency.city]
        head = _Unit(self.agency.head_office, -1, 1, "head", home)
        self.units.append(head)
        below = headcount - 1
        if below <= MAX_SPAN:
            self._finish(head, below, leaf=True)
            return self.units
        tops = sorted(self.agency.units, key=lambda unit: unit.weight, reverse=True)
        count = min(len(tops), MAX_SPAN - 2, below // SMALLEST_UNIT)
        staff = min(max(self.rng.randint(2, 3), MIN_SPAN - count), MAX_SPAN - count)
        self._finish(head, staff, leaf=False)
        children = [self._top_unit(top) for top in tops[:count]]
        self._grow_children(0, children, below - staff, _CAPACITY[MAX_DEPTH])
        return self.units

    def _top_unit(self, top: TopUnit) -> _Unit:
        city = _STATION_INDEX[top.city or self.agency.city]
        return _Unit(top.name, 0, 1, "top", city, field_office=top.field_office, weight=top.weight)

    def _grow(self, index: int, size: int) -> None:
        """Give the unit at `index` its staff and, when it has more people than one supervisor can
        lead, child units sized so that every subtree fits in the levels left."""
        unit = self.units[index]
        below = size - 1
        child_levels = MAX_DEPTH - unit.level
        if below <= MAX_SPAN or child_levels == 0:
            self._finish(unit, below, leaf=True)
            return
        count, staff = self._branching(below, child_levels)
        self._finish(unit, staff, leaf=False)
        self._grow_children(index, self._children(unit, count), below - staff, _CAPACITY[child_levels])

    def _branching(self, below: int, child_levels: int) -> tuple[int, int]:
        """How many child units, and how many staff report to the supervisor directly."""
        needed = -(-below // _CAPACITY[child_levels])
        # Branch evenly enough that a big subtree reaches units of TYPICAL_LEAF people in the levels left.
        even = math.ceil((below / TYPICAL_LEAF) ** (1 / child_levels))
        preferred = min(self.rng.randint(MIN_SPAN, 9), below // SMALLEST_UNIT)
        count = min(max(needed, even, preferred, 2), MAX_SPAN)
        staff = min(max(self.rng.randint(0, 2), MIN_SPAN - count), MAX_SPAN - count)
        return count, staff

    def _grow_children(self, parent: int, children: list[_Unit], people: int, capacity: int) -> None:
        weights = [child.weight * self.rng.uniform(0.6, 1.4) for child in children]
        floor = min(SMALLEST_UNIT, people // len(children))
        sizes = apportion(people, weights, floor=floor, cap=capacity)
        for child, size in zip(children, sizes, strict=True):
            child.manager_unit = parent
            self.units.append(child)
            self._grow(len(self.units) - 1, size)

    def _children(self, unit: _Unit, count: int) -> list[_Unit]:
        if unit.kind == "top" and unit.field_office:
            regions = min(len(_REGION_NAMES), max(1, round(count * FIELD_SHARE)))
            return self._regions(unit, regions) + self._offices(unit, count - regions, mission_first=True)
        if unit.kind == "region":
            return self._field_offices(unit, count)
        return self._offices(unit, count, mission_first=unit.kind != "office")

    def _regions(self, unit: _Unit, count: int) -> list[_Unit]:
        names = sorted(self.rng.sample(_REGION_NAMES, count), key=_REGION_NAMES.index)
        return [
            _child(unit, name, "region", REGIONS[name][0], field_office=unit.field_office, weight=2.0)
            for name in names
        ]

    def _field_offices(self, region: _Unit, count: int) -> list[_Unit]:
        """A field office in each of up to `count` cities of the region; divisions at the hub for the rest."""
        stations = REGIONS[DUTY_STATIONS[region.city].region]
        cities = self.rng.sample(stations, min(count, len(stations)))
        pattern = region.field_office or "{city} Field Office"
        offices = [
            _child(region, pattern.format(city=DUTY_STATIONS[city].city), "field", city) for city in cities
        ]
        return offices + self._offices(region, count - len(offices), mission_first=True, weight=0.5)

    def _offices(self, parent: _Unit, count: int, mission_first: bool, weight: float = 1.0) -> list[_Unit]:
        name = _OFFICE_NAMES[parent.level + 1]
        return [
            _child(parent, name.format(function[0]), "office", parent.city, function=function, weight=weight)
            for function in self._functions(count, parent.function, mission_first)
        ]

    def _functions(self, count: int, exclude: Function | None, mission_first: bool) -> list[Function]:
        """`count` distinct lines of work, none the parent's own; under components and field offices
        mostly the agency's mission, elsewhere any."""
        if count <= 0:
            return []
        mission = [f for f in self.mission if f != exclude]
        generic = [f for f in self.generic if f != exclude]
        if not mission_first:
            return self.rng.sample(mission + generic, count)
        from_mission = min(len(mission), math.ceil(count * 0.6))
        return self.rng.sample(mission, from_mission) + self.rng.sample(generic, count - from_mission)

    def _finish(self, unit: _Unit, staff: int, leaf: bool) -> None:
        unit.staff = staff
        if unit.kind == "head":
            unit.supervisor_title, unit.staff_titles = self.agency.head_title, HEAD_OFFICE_TITLES
        elif leaf:
            unit.occupations = (
                *(unit.function[1] if unit.function else self.mission_occupations),
                _SUPPORT_TITLE,
            )
            unit.supervisor_title = _head_title(unit)
        else:
            unit.staff_titles = _REGION_DEPUTY_TITLES if unit.kind == "region" else _DEPUTY_TITLES
            unit.supervisor_title = _head_title(unit)
        unit.occupations = unit.occupations or unit.staff_titles


def _child(
    parent: _Unit,
    name: str,
    kind: str,
    city: int,
    function: Function | None = None,
    field_office: str | None = None,
    weight: float = 1.0,
) -> _Unit:
    """A unit under `parent`; its manager_unit is set when it joins the plan."""
    path = f"{parent.path}{UNIT_SEPARATOR}{name}"
    return _Unit(path, -1, parent.level + 1, kind, city, function, field_office, weight)


def _head_title(unit: _Unit) -> str:
    if unit.kind == "top" and unit.path.endswith("Administration"):
        return "Administrator"
    if unit.kind == "top":
        # Uniformed officers command; the senior civilian of a command is its executive director.
        return "Executive Director" if "Command" in unit.path else "Director"
    if unit.kind == "region":
        return "Regional Director"
    if unit.kind == "field":
        return "Director"
    if unit.occupations and unit.level >= 4:
        return f"Supervisory {unit.occupations[0]}"
    return _OFFICE_HEADS[unit.level]


def _agency_rows(
    agency: Agency, headcount: int, seed: int, first: int, offset: int
) -> Iterator[tuple[str, ...]]:
    """The agency's people, each supervisor before their staff; `first` is the position of the agency's
    first row in the whole roster, which fixes the employee numbers."""
    rng = random.Random(f"{seed}:{agency.code}")
    units = _Planner(agency, rng).plan(headcount)
    rand = rng.random
    zones = [station.time_zone for station in DUTY_STATIONS]
    emails_taken: dict[str, int] = {}
    code, name, domain = agency.code, agency.name, agency.domain
    position = first

    def person(title: str, manager: str, path: str, zone: str) -> tuple[str, ...]:
        nonlocal position
        number = str(_NUMBER_BASE + (position * _NUMBER_STRIDE + offset) % _NUMBER_SPAN)
        position += 1
        first_index, last_index = int(rand() * len(FIRST_NAMES)), int(rand() * len(LAST_NAMES))
        local = f"{_FIRST_SLUGS[first_index]}.{_LAST_SLUGS[last_index]}"
        taken = emails_taken.get(local, 0) + 1
        emails_taken[local] = taken
        email = f"{local}{taken}@{domain}" if taken > 1 else f"{local}@{domain}"
        status = "on_leave" if rand() < ON_LEAVE_SHARE else "active"
        first_name, last_name = FIRST_NAMES[first_index], LAST_NAMES[last_index]
        return (number, first_name, last_name, email, code, name, path, title, manager, zone, status)

    supervisors: list[str] = []
    for unit in units:
        manager = supervisors[unit.manager_unit] if unit.manager_unit >= 0 else ""
        zone = zones[unit.city]
        head = person(unit.supervisor_title, manager, unit.path, zone)
        supervisors.append(head[0])
        yield head
        fixed, occupations = unit.staff_titles, unit.occupations
        for i in range(unit.staff):
            title = fixed[i] if i < len(fixed) else occupations[int(rand() * len(occupations))]
            # Most staff work where their unit is; the rest are remote, anywhere.
            where = zone if rand() >= REMOTE_SHARE else zones[int(rand() * len(zones))]
            yield person(title, head[0], unit.path, where)


def _rows(employees: int, seed: int, agencies: int | None) -> Iterator[tuple[str, ...]]:
    offset = random.Random(f"{seed}:employee-numbers").randrange(_NUMBER_SPAN)
    first = 0
    for agency, headcount in plan_agencies(employees, agencies):
        yield from _agency_rows(agency, headcount, seed, first, offset)
        first += headcount


def workforce(employees: int, seed: int = 42, agencies: int | None = None) -> Iterator[RosterRow]:
    """Exactly `employees` roster rows, agency by agency, each supervisor before their staff; the same
    arguments always give the same rows."""
    for fields in _rows(employees, seed, agencies):
        yield RosterRow(*fields)


def write_roster_csv(
    path_or_file: str | os.PathLike[str] | TextIO,
    employees: int,
    seed: int = 42,
    agencies: int | None = None,
    on_row: Callable[[int], None] | None = None,
) -> int:
    """Write `workforce(employees, seed, agencies)` as UTF-8 CSV with a ROSTER_COLUMNS header and return the
    number of rows. `on_row(rows_so_far)` is called every PROGRESS_EVERY rows and once at the end."""
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "w", newline="", encoding="utf-8") as handle:
            return _write(handle, _rows(employees, seed, agencies), on_row)
    return _write(path_or_file, _rows(employees, seed, agencies), on_row)


def _write(handle: TextIO, rows: Iterator[tuple[str, ...]], on_row: Callable[[int], None] | None) -> int:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(ROSTER_COLUMNS)
    written = 0
    while batch := list(islice(rows, PROGRESS_EVERY)):
        writer.writerows(batch)
        written += len(batch)
        if on_row is not None:
            on_row(written)
    return written
