"""Tables of the caseworker workbench (issue 16): blind-index terms, labels, links and
canned replies.

`case_terms` holds keyed HMACs of normalised words (storage.search), never the words: the key
is derived from the organisation's pepper, which lives in the home folder and never in the
database, so a stolen database cannot test a guessed name against it. Labels are short
working tags chosen by caseworkers; they are plaintext metadata (like status and priority)
and the dashboard says so where they are typed: never a name or a place.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

__all__ = ["CannedReply", "CaseLabel", "CaseLink", "CaseTerm"]


class CaseTerm(Base):
    """One blind-index term of a case: HMAC(key, kind|word)[:16]; `source` says who put it
    there (intake | a caseworker's name), for the history, not for the search."""

    __tablename__ = "case_terms"
    term: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # place | country | person
    source: Mapped[str] = mapped_column(String(64))
    __table_args__ = (Index("ix_case_terms_case", "case_id"),)


class CaseLabel(Base):
    __tablename__ = "case_labels"
    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(40), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_case_labels_label", "label"),)


class CaseLink(Base):
    """Two cases about the same incident, facility or person, or one a duplicate of the
    other; shown on both. `merged_at`: the duplicate was merged into `case_a`."""

    __tablename__ = "case_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_a: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    case_b: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CannedReply(Base):
    """A prepared message to reporters in one language, kept by supervisors; the
    organisation's words, not a reporter's, so plaintext like the catalogues."""

    __tablename__ = "canned_replies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lang: Mapped[str] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(String(3000))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The queue's first page in the order of a sortable column, read from an index rather than
# by sorting every case (issue 16; bench.web at 1,000,000 cases). Declared here, with the
# other workbench tables, so storage.models stays as it was; migration 0017 creates them.
def _queue_indexes() -> None:
    from storage.models import Case

    Index("ix_cases_order_priority", Case.priority, Case.received_at, Case.case_ref)
    Index("ix_cases_received", Case.received_at)


_queue_indexes()
