"""What synthetic replies say: work done last week, by line of mission, plus the phrases every agency
shares, the circulating templates people copy, the sensitive slips, and out-of-office texts."""

from __future__ import annotations

import functools

# (family, words in the agency's name that select it); the same families as the synthetic OKRs.
FAMILY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "benefits",
        ("veterans", "social security", "retirement", "benefits", "pension", "railroad", "personnel"),
    ),
    ("health", ("health", "medical", "medicine", "disease", "drug", "food")),
    ("inspections", ("safety", "enforcement", "regulat", "inspect", "examination", "supervision", "trade")),
    ("grants", ("grants", "housing", "development", "education", "humanities", "arts", "americorps")),
    ("research", ("research", "science", "standards", "space", "geolog", "statistics", "census", "commerce")),
    ("readiness", ("army", "navy", "air force", "defense", "marine", "command", "guard", "homeland")),
    ("infrastructure", ("transportation", "aviation", "engineers", "energy", "power", "park", "interior")),
)

# "{verb} {count} {object}" and free sentences per family; {n} is a number, {place} a city.
MISSION_WORK: dict[str, tuple[str, ...]] = {
    "benefits": (
        "Processed {n} disability claims in the appeals queue",
        "Completed {n} retirement application reviews",
        "Answered {n} calls on the benefits hotline",
        "Cleared the backlog of pending redeterminations for the {place} office",
        "Trained the new intake team on the claims system update",
        "Reviewed {n} overpayment waivers",
        "Helped {n} claimants file online appeals",
    ),
    "health": (
        "Saw {n} patients in the primary care clinic",
        "Finished the infection control audit for the {place} facility",
        "Reviewed {n} adverse event reports",
        "Updated the telehealth scheduling workflow",
        "Completed {n} pharmacy inventory reconciliations",
        "Presented the patient safety findings to the quality board",
    ),
    "inspections": (
        "Completed {n} on-site inspections in the {place} district",
        "Closed {n} enforcement cases",
        "Drafted the findings letter for the {place} facility",
        "Reviewed {n} corrective action plans",
        "Wrote the monthly compliance summary",
        "Followed up on {n} open findings from last quarter",
    ),
    "grants": (
        "Reviewed {n} grant applications for the spring cycle",
        "Closed out {n} expired awards",
        "Held the pre-award call with the {place} grantees",
        "Drafted the notice of funding opportunity",
        "Finished the site monitoring visit in {place}",
        "Processed {n} budget modification requests",
    ),
    "research": (
        "Ran the calibration series on the new instruments",
        "Submitted the manuscript on the {place} field data",
        "Processed {n} survey returns through the edit checks",
        "Reviewed {n} proposals for the science panel",
        "Published the quarterly data release",
        "Gave the Wednesday seminar on measurement uncertainty",
    ),
    "readiness": (
        "Completed {n} work orders on the depot maintenance line",
        "Inventoried {n} items in the {place} warehouse",
        "Finished the readiness report for the quarterly review",
        "Coordinated the exercise schedule with the {place} garrison",
        "Closed {n} housing maintenance requests",
        "Updated the equipment status tracker",
    ),
    "infrastructure": (
        "Inspected {n} bridges in the {place} district",
        "Reviewed the contractor's schedule for the runway project",
        "Processed {n} permit applications",
        "Walked the levee segment near {place} with the geotech team",
        "Finished the deferred maintenance estimate",
        "Updated the visitor safety signage plan",
    ),
}
COMMON_WORK: tuple[str, ...] = (
    "Closed {n} help desk tickets",
    "Met with my supervisor about the FY27 priorities",
    "Completed the annual cybersecurity awareness training",
    "Reviewed {n} contract invoices",
    "Drafted the briefing memo for leadership",
    "Onboarded {n} new team members",
    "Answered {n} congressional correspondence items",
    "Updated the team's standard operating procedures",
    "Attended the all-hands and shared the notes with the team",
    "Reconciled the travel card statements",
    "Prepared the budget justification tables",
    "Finished my performance self-assessment",
    "Responded to {n} FOIA requests",
    "Covered the front desk for a colleague on leave",
)
PLACES: tuple[str, ...] = (
    "Atlanta",
    "Denver",
    "Boise",
    "Kansas City",
    "Philadelphia",
    "Seattle",
    "Dallas",
    "Chicago",
    "Albuquerque",
    "San Juan",
    "Anchorage",
    "Baltimore",
    "Tulsa",
    "Fresno",
    "Norfolk",
    "Honolulu",
)
# Text with characters outside ASCII, so charsets matter.
ACCENTED_PLACES: tuple[str, ...] = ("Bayamón", "Española", "Coeur d’Alene", "Cañon City", "Montréal liaison")

# Circulating answers people pass around and copy with small edits.
TEMPLATES: tuple[tuple[str, ...], ...] = (
    (
        "Continued to support mission priorities",
        "Attended required meetings",
        "Responded to emails and taskers",
        "Completed assigned work on time",
        "Coordinated with stakeholders",
    ),
    (
        "Supported my team's ongoing projects",
        "Completed all assigned tasks",
        "Participated in team meetings",
    ),
    (
        "Performed the duties in my position description",
        "Followed all applicable laws, regulations and policies",
        "Provided excellent customer service",
        "Maintained required certifications",
        "Collaborated across the agency",
    ),
)
TEMPLATE_EDITS: tuple[tuple[str, str], ...] = (
    ("Attended", "Participated in"),
    ("Completed", "Finished"),
    ("stakeholders", "partners"),
    ("emails", "e-mails"),
    ("on time", "by the deadline"),
    ("my team's", "our"),
)

# One bullet that should not have been sent by email.
SENSITIVE_SLIPS: tuple[str, ...] = (
    "Reviewed the SECRET//NOFORN cable traffic on the {place} matter",
    "Drafted the CUI//SP-PRVCY summary of the {place} investigation",
    "Fixed the pay record for the employee with SSN {ssn}",
    "Sent the TOP SECRET//SI briefing slides to the deputy",
    "CUI: shared the personnel file notes on the {place} case",
    "Resolved the benefits issue for claimant {ssn}",
)

OUT_OF_OFFICE: tuple[str, ...] = (
    "I am out of the office until {back} with limited access to email. For urgent matters please contact "
    "{manager}.",
    "Thank you for your message. I am on annual leave and will return on {back}. If you need immediate "
    "assistance, please contact {manager}.",
    "I am currently on travel with no access to email. I will respond when I return on {back}.",
)
OUT_OF_OFFICE_SUBJECTS: tuple[str, ...] = ("Automatic reply: {subject}", "Out of Office: {subject}")

GREETINGS: tuple[str, ...] = ("Hi,", "Hello,", "Good morning,", "Hi all,", "Good afternoon,")
INTRODUCTIONS: tuple[str, ...] = ("Last week I:", "Here is my week:", "Accomplishments:", "This week:")
SIGN_OFFS: tuple[str, ...] = ("Thanks,", "V/r,", "Respectfully,", "Best,", "Regards,", "Thank you,")
PERSONAL_DOMAINS: tuple[str, ...] = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com")


@functools.lru_cache(maxsize=512)
def family_of(agency_name: str) -> str:
    """The mission family whose work an agency's people report."""
    lowered = agency_name.lower()
    for family, words in FAMILY_WORDS:
        if any(word in lowered for word in words):
            return family
    return "general"
