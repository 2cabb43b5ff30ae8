"""The demo's pages in the review site: the mail the daemon sent, as the caught messages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from watcher.demo import mailbox
from watcher.web.pages import current_user, render, store_of


def router(directory: Path) -> APIRouter:
    """Pages over the mail caught in ``directory``; only the demo adds them to the app."""
    r = APIRouter()

    @r.get("/demo/mail")
    def inbox(request: Request) -> Response:
        with store_of(request) as store:
            user = current_user(request, store)
        return render(request, "demo_mail.html", user, mails=mailbox.messages(directory))

    @r.get("/demo/mail/{number}")
    def one(request: Request, number: int) -> Response:
        with store_of(request) as store:
            user = current_user(request, store)
        mail = mailbox.message(directory, number)
        if mail is None:
            raise HTTPException(status_code=404, detail="没有这封邮件")
        return render(request, "demo_mail_one.html", user, mail=mail)

    return r
