"""The core domain: the network, people, callers, tickets and the calendar."""

from hotline.models.audit import AuditAction, AuditEntry, AuditSubject
from hotline.models.calendar import CalendarDay, CalendarYear
from hotline.models.disclosure import PublishedCase
from hotline.models.idempotency import IdempotencyKey
from hotline.models.knowledge import KnowledgeArticle
from hotline.models.network import Area, Role, Unit, UnitKind, User
from hotline.models.search import TicketSearch
from hotline.models.supervision import (
    SupervisionCase,
    SupervisionForm,
    SupervisionNote,
    SupervisionOutcome,
    SupervisionStatus,
)
from hotline.models.tickets import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Attachment,
    Caller,
    Category,
    Channel,
    Dispute,
    DisputeStatus,
    Extension,
    ExtensionStatus,
    Referral,
    SlaPolicy,
    Ticket,
    TicketCounter,
    TicketStatus,
    TimelineEntry,
    Topic,
    Urgency,
)

__all__ = [
    "Area",
    "Assignment",
    "AssignmentRole",
    "AssignmentStatus",
    "Attachment",
    "AuditAction",
    "AuditEntry",
    "AuditSubject",
    "CalendarDay",
    "CalendarYear",
    "Caller",
    "Category",
    "Channel",
    "Dispute",
    "DisputeStatus",
    "Extension",
    "ExtensionStatus",
    "IdempotencyKey",
    "KnowledgeArticle",
    "PublishedCase",
    "Referral",
    "Role",
    "SlaPolicy",
    "SupervisionCase",
    "SupervisionForm",
    "SupervisionNote",
    "SupervisionOutcome",
    "SupervisionStatus",
    "Ticket",
    "TicketCounter",
    "TicketSearch",
    "TicketStatus",
    "TimelineEntry",
    "Topic",
    "Unit",
    "UnitKind",
    "Urgency",
    "User",
]
