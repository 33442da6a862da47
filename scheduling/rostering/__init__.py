"""Rostering library (issue #6): two-stage CP-SAT rosters for Force Control Rooms, with an independent audit.

Plain Python on OR-Tools; it never imports ``app``. Entry points: ``parse_request`` / ``validate_request`` for
input, ``solve_roster`` for a roster, ``audit_roster`` to check any roster. See docs/rostering.md.
"""

from scheduling.rostering.audit import RULES, audit_roster, roster_coverage
from scheduling.rostering.model import FAMILIES
from scheduling.rostering.solver import check_person, design_shifts, diagnose_person, solve_roster
from scheduling.rostering.types import (
    Assignment,
    BreakAssignment,
    BreakRule,
    Conflict,
    CoveragePoint,
    Pattern,
    Period,
    Preferences,
    Progress,
    RequirementPoint,
    RosterRequest,
    RosterResult,
    RosterValidationError,
    Rules,
    ShiftTemplate,
    Staff,
    Violation,
    Weights,
    WorkedShift,
)
from scheduling.rostering.validation import parse_request, validate_request

__all__ = [
    "FAMILIES",
    "RULES",
    "Assignment",
    "BreakAssignment",
    "BreakRule",
    "Conflict",
    "CoveragePoint",
    "Pattern",
    "Period",
    "Preferences",
    "Progress",
    "RequirementPoint",
    "RosterRequest",
    "RosterResult",
    "RosterValidationError",
    "Rules",
    "ShiftTemplate",
    "Staff",
    "Violation",
    "Weights",
    "WorkedShift",
    "audit_roster",
    "check_person",
    "design_shifts",
    "diagnose_person",
    "parse_request",
    "roster_coverage",
    "solve_roster",
    "validate_request",
]
