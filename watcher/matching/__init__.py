"""Impersonation matching: is a discovered account one of ours, clear, or a suspect — and why."""

from watcher.matching.matcher import ALGO, Candidate, Matcher, MatchResult
from watcher.matching.terms import SchoolTerms

__all__ = ["ALGO", "Candidate", "MatchResult", "Matcher", "SchoolTerms"]
